import Foundation

/// Writes metrics in the Prometheus text exposition format, version 0.0.4, the way vLLM's
/// `prometheus_client` does, so that what scrapes vLLM reads Tram:
///
///     # HELP tram:prompt_tokens_total Number of prefill tokens processed.
///     # TYPE tram:prompt_tokens_total counter
///     tram:prompt_tokens_total{model_name="smol"} 12.0
///
/// A counter's name takes the `_total` suffix in every line. A histogram writes one cumulative
/// `_bucket` line per bound and one for `le="+Inf"` (equal to `_count`), then `_count` and `_sum`.
/// Labels are written sorted by name and escaped (`\\`, `\"`, `\n`); numbers as Python's
/// `repr`, with Go's exponent for large ones: `1.0`, `0.25`, `1.5e+06`, `+Inf`.
package struct PrometheusText {
    package typealias Labels = [String: String]

    package private(set) var text = ""

    package init() {}

    package mutating func gauge(_ name: String, help: String, _ series: [(labels: Labels, value: Double)]) {
        header(name, help: help, type: "gauge")
        for s in series { sample(name, s.labels, s.value) }
    }

    package mutating func counter(_ name: String, help: String, _ series: [(labels: Labels, value: Double)]) {
        let total = name + "_total"
        header(total, help: help, type: "counter")
        for s in series { sample(total, s.labels, s.value) }
    }

    package mutating func histogram(_ name: String, help: String, _ series: [(labels: Labels, histogram: Histogram)]) {
        header(name, help: help, type: "histogram")
        for (labels, h) in series {
            var cumulative = 0
            for (bound, count) in zip(h.bounds + [.infinity], h.counts) {
                cumulative += count
                var withBound = labels
                withBound["le"] = Self.format(bound)
                sample(name + "_bucket", withBound, Double(cumulative))
            }
            sample(name + "_count", labels, Double(cumulative))
            sample(name + "_sum", labels, h.sum)
        }
    }

    private mutating func header(_ name: String, help: String, type: String) {
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ labels: Labels, _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            text += labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
            text += "}"
        }
        text += " \(Self.format(value))\n"
    }

    static func escape(_ labelValue: String) -> String {
        labelValue.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A number as `prometheus_client`'s `floatToGoString`: Python's shortest round-trip form
    /// (which Swift's `description` shares), except that numbers with more than six integer
    /// digits take an exponent, as Go writes them (`1234567.0` → `1.234567e+06`).
    package static func format(_ value: Double) -> String {
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value.isNaN { return "NaN" }
        let s = value.description
        guard value > 0, let dot = s.firstIndex(of: "."), s.distance(from: s.startIndex, to: dot) > 6 else { return s }
        let digits = s[..<dot] + s[s.index(after: dot)...]
        var mantissa = String(digits.prefix(1)) + "." + String(digits.dropFirst())
        while mantissa.last == "0" || mantissa.last == "." { mantissa.removeLast() }
        let exponent = s.distance(from: s.startIndex, to: dot) - 1
        return mantissa + "e+" + (exponent < 10 ? "0" : "") + String(exponent)
    }
}

/// Observations counted into fixed buckets, as a Prometheus histogram keeps them.
package struct Histogram: Sendable, Equatable {
    /// Upper bounds (`le`), ascending; `+Inf` is implied after them.
    package let bounds: [Double]
    /// Observations per bucket, not cumulative: `counts[i]` fell in `(bounds[i-1], bounds[i]]`,
    /// the last entry above every bound. // [bounds.count + 1]
    package private(set) var counts: [Int]
    package private(set) var sum = 0.0

    package init(bounds: [Double]) {
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must ascend")
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    package var count: Int { counts.reduce(0, +) }

    package mutating func observe(_ value: Double) {
        counts[bounds.firstIndex { value <= $0 } ?? bounds.count] += 1
        sum += value
    }
}
