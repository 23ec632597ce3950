import Testing
import TramBench

struct BenchmarkMetricsTests {
    static func output(start: Double = 0, ttft: Double, itl: [Double], tokens: Int?, prompt: Int = 10, text: String = "") -> RequestOutput {
        var o = RequestOutput(promptLen: prompt)
        o.success = true
        o.startTime = start
        o.ttft = ttft
        o.itl = itl
        o.latency = ttft + itl.reduce(0, +)
        o.outputTokens = tokens
        o.textChunks = itl.count + 1
        o.generatedText = text
        return o
    }

    static func failed() -> RequestOutput {
        var o = RequestOutput(promptLen: 10)
        o.error = "HTTP 500"
        return o
    }

    /// Times are binary fractions so that sums are exact.
    @Test func definitionsOfVLLM() {
        let outputs = [
            Self.output(start: 0, ttft: 0.25, itl: [0.125, 0.125, 0.125], tokens: 4, prompt: 10),
            Self.failed(),
            Self.output(start: 0.625, ttft: 0.5, itl: [0.25, 0.25], tokens: 6, prompt: 12),
        ]
        let m = BenchmarkMetrics(outputs: outputs, duration: 2) { _ in 0 }
        #expect(m.completed == 2 && m.failed == 1)
        #expect(m.totalInput == 22)
        #expect(m.totalOutput == 10)
        #expect(m.outputLens == [4, 0, 6])
        #expect(m.requestThroughput == 1)
        #expect(m.outputThroughput == 5)
        #expect(m.totalTokenThroughput == 16)
        #expect(m.ttfts == [0.25, 0.5])
        #expect(m.itls == [0.125, 0.125, 0.125, 0.25, 0.25])
        #expect(m.e2els == [0.625, 1])
        // (E2EL − TTFT) / (tokens − 1): 0.375 / 3, and 0.5 / 5 — usage says 6 tokens though
        // only 3 chunks came: TPOT divides by tokens, ITL is per chunk.
        #expect(m.tpots == [0.125, 0.1])
        // [0, 0.625) and [0.625, 1.625) touch but do not overlap.
        #expect(m.maxConcurrentRequests == 1)
        // Chunks at 0.25, 0.375, 0.5, 0.625 | 1.125, 1.375, 1.625: 4 in the first second.
        #expect(m.maxOutputTokensPerSecond == 4)
    }

    @Test func oneTokenHasNoTPOTAndMissingUsageIsRetokenized() {
        let outputs = [
            Self.output(ttft: 0.3, itl: [], tokens: 1),
            Self.output(start: 0.1, ttft: 0.3, itl: [0.05], tokens: nil, text: "a b c"),
        ]
        let m = BenchmarkMetrics(outputs: outputs, duration: 1) { $0.split(separator: " ").count }
        #expect(m.outputLens == [1, 3])
        #expect(m.tpots.count == 1 && abs(m.tpots[0] - 0.025) < 1e-12)
        #expect(m.maxConcurrentRequests == 2)
    }

    @Test func allFailed() {
        let m = BenchmarkMetrics(outputs: [Self.failed(), Self.failed()], duration: 1) { _ in 0 }
        #expect(m.completed == 0 && m.failed == 2 && m.totalOutput == 0 && m.requestThroughput == 0)
        #expect(m.maxOutputTokensPerSecond == 0 && m.maxConcurrentRequests == 0)
    }
}
