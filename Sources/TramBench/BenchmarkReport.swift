package import Foundation

/// vLLM's report of a serving benchmark: the "Serving Benchmark Result" table and the result
/// JSON of `--save-result`, with vLLM's labels, layout and key names so that scripts written for
/// `vllm bench serve` read ours.
package struct BenchmarkReport {
    /// The metrics that can have a percentile section, in vLLM's print order:
    /// (key, short name, section title).
    package static let percentileMetricNames: [(String, String, String)] = [
        ("ttft", "TTFT", "Time to First Token"),
        ("tpot", "TPOT", "Time per Output Token (excl. 1st token)"),
        ("itl", "ITL", "Inter-token Latency"),
        ("e2el", "E2EL", "End-to-end Latency"),
    ]

    /// The run's settings, as reported.
    package struct Settings: Sendable {
        package var backend: String
        package var label: String?
        package var modelID: String
        package var tokenizerID: String
        package var numPrompts: Int
        package var requestRate: Double
        package var burstiness: Double
        package var maxConcurrency: Int?
        /// Keys of `percentileMetricNames` to report.
        package var percentileMetrics: [String]
        package var metricPercentiles: [Double]

        package init(backend: String, label: String? = nil, modelID: String, tokenizerID: String, numPrompts: Int, requestRate: Double,
                     burstiness: Double, maxConcurrency: Int?, percentileMetrics: [String], metricPercentiles: [Double]) {
            self.backend = backend
            self.label = label
            self.modelID = modelID
            self.tokenizerID = tokenizerID
            self.numPrompts = numPrompts
            self.requestRate = requestRate
            self.burstiness = burstiness
            self.maxConcurrency = maxConcurrency
            self.percentileMetrics = percentileMetrics
            self.metricPercentiles = metricPercentiles
        }
    }

    package var settings: Settings
    package var metrics: BenchmarkMetrics
    package var run: BenchmarkRun

    package init(settings: Settings, metrics: BenchmarkMetrics, run: BenchmarkRun) {
        self.settings = settings
        self.metrics = metrics
        self.run = run
    }

    func samples(_ key: String) -> [Double] {
        switch key {
        case "ttft": metrics.ttfts
        case "tpot": metrics.tpots
        case "itl": metrics.itls
        default: metrics.e2els
        }
    }

    /// The summaries of the selected metrics, in print order, in milliseconds.
    var sections: [(key: String, name: String, title: String, summary: Summary)] {
        Self.percentileMetricNames.filter { settings.percentileMetrics.contains($0.0) }.map { key, name, title in
            (key, name, title, Summary(samples(key).map { $0 * 1000 }, percentiles: settings.metricPercentiles))
        }
    }

    /// "99" for 99, "99.9" for 99.9, as vLLM names percentile rows and keys.
    static func percentileWord(_ p: Double) -> String {
        p == p.rounded() && abs(p) < 1e15 ? String(Int(p)) : String(p)
    }

    // MARK: - Table

    /// The table as vLLM prints it: 40-column labels, values left-aligned in 10 columns.
    package var table: String {
        var lines = [Self.centered(" Serving Benchmark Result ", fill: "=")]
        func row(_ label: String, _ value: String) {
            lines.append(label.padding(toLength: max(40, label.count), withPad: " ", startingAt: 0) + " "
                         + value.padding(toLength: max(10, value.count), withPad: " ", startingAt: 0))
        }
        func row(_ label: String, _ value: Double) { row(label, String(format: "%.2f", value)) }
        row("Successful requests:", String(metrics.completed))
        row("Failed requests:", String(metrics.failed))
        if let c = settings.maxConcurrency { row("Maximum request concurrency:", String(c)) }
        if settings.requestRate.isFinite { row("Request rate configured (RPS):", settings.requestRate) }
        row("Benchmark duration (s):", run.duration)
        row("Total input tokens:", String(metrics.totalInput))
        row("Total generated tokens:", String(metrics.totalOutput))
        row("Request throughput (req/s):", metrics.requestThroughput)
        row("Output token throughput (tok/s):", metrics.outputThroughput)
        row("Peak output token throughput (tok/s):", metrics.maxOutputTokensPerSecond)
        row("Peak concurrent requests:", Double(metrics.maxConcurrentRequests))
        row("Total token throughput (tok/s):", metrics.totalTokenThroughput)
        for section in sections {
            lines.append(Self.centered(section.title, fill: "-"))
            row("Mean \(section.name) (ms):", section.summary.mean)
            row("Median \(section.name) (ms):", section.summary.median)
            for (p, value) in section.summary.percentiles { row("P\(Self.percentileWord(p)) \(section.name) (ms):", value) }
        }
        lines.append(String(repeating: "=", count: 50))
        return lines.joined(separator: "\n")
    }

    /// Python's `"{:c^50}".format(s)`: the extra fill character of an odd gap goes right.
    static func centered(_ s: String, fill: Character, width: Int = 50) -> String {
        let gap = max(0, width - s.count)
        return String(repeating: fill, count: gap / 2) + s + String(repeating: fill, count: gap - gap / 2)
    }

    // MARK: - JSON

    /// The result JSON with vLLM's keys, per-request arrays included (vLLM's `--save-detailed`
    /// adds `generated_texts` and `start_times` too; `detailed` does the same here).
    package func json(date: Date = Date(), detailed: Bool = false) -> [String: Any] {
        let outputs = run.outputs
        var result: [String: Any] = [
            "date": Self.stamp(date),
            "endpoint_type": settings.backend,
            "backend": settings.backend,
            "label": settings.label ?? NSNull(),
            "model_id": settings.modelID,
            "tokenizer_id": settings.tokenizerID,
            "num_prompts": settings.numPrompts,
            "request_rate": Self.number(settings.requestRate),
            "burstiness": Self.number(settings.burstiness),
            "max_concurrency": settings.maxConcurrency ?? NSNull(),
            "duration": run.duration,
            "completed": metrics.completed,
            "failed": metrics.failed,
            "total_input_tokens": metrics.totalInput,
            "total_output_tokens": metrics.totalOutput,
            "request_throughput": metrics.requestThroughput,
            "request_goodput": NSNull(),
            "output_throughput": metrics.outputThroughput,
            "total_token_throughput": metrics.totalTokenThroughput,
            "max_output_tokens_per_s": metrics.maxOutputTokensPerSecond,
            "max_concurrent_requests": metrics.maxConcurrentRequests,
            "input_lens": outputs.map(\.promptLen),
            "output_lens": metrics.outputLens,
            "ttfts": outputs.map(\.ttft),
            "itls": outputs.map(\.itl),
            "latencies": outputs.map(\.latency),
            "errors": outputs.map(\.error),
        ]
        if detailed {
            result["generated_texts"] = outputs.map(\.generatedText)
            result["start_times"] = outputs.map(\.startTime)
        }
        for section in sections {
            result["mean_\(section.key)_ms"] = section.summary.mean
            result["median_\(section.key)_ms"] = section.summary.median
            result["std_\(section.key)_ms"] = section.summary.std
            for (p, value) in section.summary.percentiles { result["p\(Self.percentileWord(p))_\(section.key)_ms"] = value }
        }
        return result
    }

    /// JSON has no infinity: vLLM writes the string "inf".
    static func number(_ x: Double) -> Any { x.isFinite ? x : "inf" }

    /// vLLM's default result file name: `{label}-{rate}qps[-concurrency{n}]-{model}-{date}.json`.
    package func defaultFileName(date: Date = Date()) -> String {
        let rate = settings.requestRate.isFinite ? String(settings.requestRate) : "inf"
        let concurrency = settings.maxConcurrency.map { "-concurrency\($0)" } ?? ""
        let model = settings.modelID.split(separator: "/").last.map(String.init) ?? settings.modelID
        return "\(settings.label ?? settings.backend)-\(rate)qps\(concurrency)-\(model)-\(Self.stamp(date)).json"
    }

    /// vLLM's `%Y%m%d-%H%M%S` in local time.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }

    /// Writes `json` to `path` (compact, keys sorted).
    package func save(to path: String, detailed: Bool = false) throws {
        let data = try JSONSerialization.data(withJSONObject: json(detailed: detailed), options: [.sortedKeys, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: path))
    }
}
