/// The numbers of vLLM's "Serving Benchmark Result", from the requests' outputs and the run's
/// duration. Definitions, per successful request:
///
/// - TTFT: from sending the request to the first chunk that carries text.
/// - ITL: each gap between consecutive text chunks (all gaps of all requests are one sample).
/// - E2EL: from sending to the last text chunk.
/// - TPOT: (E2EL − TTFT) / (output tokens − 1), for requests with more than one output token.
/// - Output tokens: the server's `usage.completion_tokens`; when it sends no usage, the
///   generated text re-tokenized (vLLM does the same).
///
/// Throughputs divide by the duration of the whole run: completed requests, output tokens, and
/// input + output tokens per second. Failed requests count in `failed` and nowhere else.
package struct BenchmarkMetrics: Sendable {
    package var completed = 0
    package var failed = 0
    package var totalInput = 0
    package var totalOutput = 0
    package var requestThroughput = 0.0
    package var outputThroughput = 0.0
    package var totalTokenThroughput = 0.0
    /// Per request, in input order; 0 for a failed one.
    package var outputLens: [Int] = []
    package var ttfts: [Double] = []
    package var tpots: [Double] = []
    package var itls: [Double] = []
    package var e2els: [Double] = []
    /// The most text chunks received in any one-second window from the first request's start.
    package var maxOutputTokensPerSecond = 0.0
    /// The most requests in flight at once (over half-open [start, end) intervals).
    package var maxConcurrentRequests = 0

    /// - Parameter countTokens: tokenizes generated text, for servers that send no usage.
    package init(outputs: [RequestOutput], duration: Double, countTokens: (String) -> Int) {
        for output in outputs {
            guard output.success else {
                failed += 1
                outputLens.append(0)
                continue
            }
            let outputLen = output.outputTokens ?? countTokens(output.generatedText)
            outputLens.append(outputLen)
            totalInput += output.promptLen
            if outputLen > 1 { tpots.append((output.latency - output.ttft) / Double(outputLen - 1)) }
            itls += output.itl
            ttfts.append(output.ttft)
            e2els.append(output.latency)
            completed += 1
        }
        totalOutput = outputLens.reduce(0, +)
        if duration > 0 {
            requestThroughput = Double(completed) / duration
            outputThroughput = Double(totalOutput) / duration
            totalTokenThroughput = Double(totalInput + totalOutput) / duration
        }
        (maxOutputTokensPerSecond, maxConcurrentRequests) = Self.peaks(outputs.filter(\.success))
    }

    /// vLLM's peak figures: text chunks bucketed by whole seconds since the earliest start, and
    /// a sweep over request intervals in which an end at the same instant as a start comes first.
    static func peaks(_ outputs: [RequestOutput]) -> (tokensPerSecond: Double, concurrency: Int) {
        guard let origin = outputs.map(\.startTime).min() else { return (0, 0) }
        let end = outputs.map { $0.startTime + $0.latency }.max() ?? origin
        var buckets = [Int](repeating: 0, count: Int((end - origin).rounded(.up)) + 1)
        var events: [(time: Double, delta: Int)] = []
        for output in outputs {
            var time = output.startTime + output.ttft
            var times = [time]
            for gap in output.itl {
                time += gap
                times.append(time)
            }
            for t in times {
                let bucket = Int(t - origin)
                if bucket >= 0, bucket < buckets.count { buckets[bucket] += 1 }
            }
            events.append((output.startTime, 1))
            events.append((output.startTime + output.latency, -1))
        }
        events.sort { $0.time != $1.time ? $0.time < $1.time : $0.delta < $1.delta }
        var current = 0
        var peak = 0
        for event in events {
            current += event.delta
            peak = max(peak, current)
        }
        return (Double(buckets.max() ?? 0), peak)
    }
}
