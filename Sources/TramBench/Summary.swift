/// Mean, median, standard deviation and percentiles of one metric, computed as numpy computes
/// them in vLLM's report, so the two tools print the same numbers for the same samples.
///
/// - No samples summarize as all zeros (vLLM's `np.mean(values or 0)`).
/// - The standard deviation is the population one (`np.std`, ddof 0).
/// - Percentiles interpolate linearly between the two nearest ranks (`np.percentile`'s
///   default): over sorted x₀…xₙ₋₁, P(p) sits at rank p/100·(n−1); for [1, 2, 3, 4],
///   P99 = 3 + 0.97·(4 − 3) = 3.97 and the median 2.5.
package struct Summary: Sendable, Equatable {
    package var mean: Double
    package var median: Double
    package var std: Double
    /// (p, value) for each requested percentile, in the order asked.
    package var percentiles: [(Double, Double)]

    package init(_ values: [Double], percentiles ps: [Double]) {
        guard !values.isEmpty else {
            mean = 0
            median = 0
            std = 0
            percentiles = ps.map { ($0, 0) }
            return
        }
        let sorted = values.sorted()
        let n = Double(values.count)
        mean = values.reduce(0, +) / n
        let m = mean
        std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        median = Self.percentile(sorted: sorted, 50)
        percentiles = ps.map { ($0, Self.percentile(sorted: sorted, $0)) }
    }

    /// numpy's linear-interpolation percentile of ascending `sorted`; `p` in [0, 100].
    package static func percentile(sorted: [Double], _ p: Double) -> Double {
        guard let first = sorted.first else { return 0 }
        guard sorted.count > 1 else { return first }
        let rank = p / 100 * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let t = rank - Double(low)
        let a = sorted[low], b = sorted[high]
        // numpy's _lerp: from the nearer end, so that t = 1 gives b exactly.
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    package static func == (l: Summary, r: Summary) -> Bool {
        l.mean == r.mean && l.median == r.median && l.std == r.std
            && l.percentiles.count == r.percentiles.count
            && zip(l.percentiles, r.percentiles).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
