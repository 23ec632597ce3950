import Foundation
import Testing
import TramBench

struct BenchmarkReportTests {
    static func report(maxConcurrency: Int? = 4, rate: Double = .infinity, metrics: [String] = ["ttft", "tpot", "itl", "e2el"]) -> BenchmarkReport {
        var o = RequestOutput(promptLen: 16)
        o.success = true
        o.ttft = 0.25
        o.itl = [0.125]
        o.latency = 0.375
        o.outputTokens = 2
        let run = BenchmarkRun(outputs: [o], duration: 0.5)
        let settings = BenchmarkReport.Settings(backend: "openai", modelID: "org/smol", tokenizerID: "smol", numPrompts: 1, requestRate: rate,
                                                burstiness: 1, maxConcurrency: maxConcurrency, percentileMetrics: metrics, metricPercentiles: [50, 99.9])
        return BenchmarkReport(settings: settings, metrics: BenchmarkMetrics(outputs: run.outputs, duration: run.duration) { _ in 0 }, run: run)
    }

    @Test func tableHasVLLMLayout() {
        let lines = Self.report().table.split(separator: "\n").map(String.init)
        #expect(lines.first == "============ Serving Benchmark Result ============")
        #expect(lines.last == String(repeating: "=", count: 50))
        #expect(lines.contains("Successful requests:                     1         "))
        #expect(lines.contains("Maximum request concurrency:             4         "))
        #expect(lines.contains("Benchmark duration (s):                  0.50      "))
        #expect(lines.contains("Total input tokens:                      16        "))
        #expect(lines.contains("Total generated tokens:                  2         "))
        #expect(lines.contains("Output token throughput (tok/s):         4.00      "))
        #expect(lines.contains("---------------Time to First Token----------------"))
        #expect(lines.contains("Mean TTFT (ms):                          250.00    "))
        #expect(lines.contains("P99.9 TTFT (ms):                         250.00    "))
        #expect(lines.contains("-----Time per Output Token (excl. 1st token)------"))
        #expect(lines.contains("Median TPOT (ms):                        125.00    "))
        #expect(lines.contains("P50 E2EL (ms):                           375.00    "))
        #expect(!lines.contains { $0.hasPrefix("Request rate configured") })
        let rated = Self.report(maxConcurrency: nil, rate: 2, metrics: ["ttft"]).table
        #expect(rated.contains("Request rate configured (RPS):           2.00      "))
        #expect(!rated.contains("Maximum request concurrency") && !rated.contains("TPOT"))
    }

    @Test func jsonHasVLLMKeys() throws {
        let json = Self.report().json()
        for key in ["date", "backend", "model_id", "num_prompts", "request_rate", "burstiness", "max_concurrency", "duration", "completed",
                    "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput",
                    "mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99.9_ttft_ms", "p50_tpot_ms", "mean_itl_ms", "p50_e2el_ms",
                    "input_lens", "output_lens", "ttfts", "itls", "errors"] {
            #expect(json[key] != nil, "\(key)")
        }
        #expect(json["request_rate"] as? String == "inf")
        #expect(json["max_concurrency"] as? Int == 4)
        #expect(json["output_lens"] as? [Int] == [2])
        // It serializes (no infinities or NaNs).
        _ = try JSONSerialization.data(withJSONObject: json)
    }

    @Test func defaultFileNameIsVLLMs() {
        let name = Self.report().defaultFileName(date: Date(timeIntervalSince1970: 0))
        #expect(name.hasPrefix("openai-infqps-concurrency4-smol-") && name.hasSuffix(".json"))
    }

    @Test func progressLine() {
        #expect(ProgressBar.line(done: 8, total: 16, elapsed: 4) == " 50%|██████████          | 8/16 [00:04<00:04, 2.00it/s]")
        #expect(ProgressBar.line(done: 0, total: 3, elapsed: 0) == "  0%|                    | 0/3 [00:00<00:00, 0.00it/s]")
        var lines: [String] = []
        var bar = ProgressBar(total: 20, interactive: false) { lines.append($0) }
        for i in 1...20 { bar.update(i) }
        #expect(lines.count == 10 && lines.last?.hasPrefix("100%|") == true)
    }
}
