import Foundation
public import Logging

/// Counters of what the engine did, updated by `EngineCore.step()`, for metrics and the
/// periodic log line (vLLM's "Avg prompt throughput … Running: … KV cache usage …").
public struct EngineStatistics: Sendable, Equatable {
    public var steps = 0
    /// Prompt tokens computed (prefill, including recomputation after preemption).
    public var promptTokens = 0
    /// Tokens sampled.
    public var generationTokens = 0
    public var finishedRequests = 0
    public var numRunning = 0
    public var numWaiting = 0
    public var kvCacheUsage = 0.0
    public var numPreemptions = 0
    public var prefixCacheQueries = 0
    public var prefixCacheHits = 0
    /// Speculative decoding (vLLM's `spec_decode_*`): requests' proposals verified, their
    /// tokens, those accepted, and accepted per position (index i: proposals accepted at i).
    public var specDecodeNumDrafts = 0
    public var specDecodeNumDraftTokens = 0
    public var specDecodeNumAcceptedTokens = 0
    public var specDecodeAcceptedPerPosition: [Int] = []

    public init() {}
}

/// Logs a line like vLLM's every `interval` while the engine works.
public struct StatisticsLogger {
    public var logger: Logger
    public var interval: Duration
    private var last: EngineStatistics?
    private var lastTime: ContinuousClock.Instant

    public init(logger: Logger, interval: Duration = .seconds(5)) {
        self.logger = logger
        self.interval = interval
        lastTime = .now
    }

    /// Call after each step with the core's statistics; logs when `interval` has passed.
    public mutating func record(_ s: EngineStatistics) {
        let now = ContinuousClock.now
        guard now - lastTime >= interval else { return }
        let elapsed = Double((now - lastTime).components.seconds) + Double((now - lastTime).components.attoseconds) * 1e-18
        let previous = last ?? EngineStatistics()
        let prompt = Double(s.promptTokens - previous.promptTokens) / elapsed
        let generation = Double(s.generationTokens - previous.generationTokens) / elapsed
        let hitRate = s.prefixCacheQueries > 0 ? 100 * Double(s.prefixCacheHits) / Double(s.prefixCacheQueries) : 0
        let drafts = s.specDecodeNumDrafts - previous.specDecodeNumDrafts
        let draftTokens = s.specDecodeNumDraftTokens - previous.specDecodeNumDraftTokens
        let accepted = s.specDecodeNumAcceptedTokens - previous.specDecodeNumAcceptedTokens
        // vLLM's SpecDecoding line: acceptance rate, and mean accepted length counting the bonus token.
        let speculation = drafts == 0 ? "" : String(
            format: ", SpecDecoding: Accepted: %d tokens, Drafted: %d tokens, Acceptance rate: %.1f%%, Mean acceptance length: %.2f",
            accepted, draftTokens, 100 * Double(accepted) / Double(max(draftTokens, 1)), 1 + Double(accepted) / Double(drafts))
        logger.info("""
            Avg prompt throughput: \(String(format: "%.1f", prompt)) tokens/s, Avg generation throughput: \(String(format: "%.1f", generation)) tokens/s, \
            Running: \(s.numRunning) reqs, Waiting: \(s.numWaiting) reqs, KV cache usage: \(String(format: "%.1f", s.kvCacheUsage * 100))%, \
            Prefix cache hit rate: \(String(format: "%.1f", hitRate))%, Preemptions: \(s.numPreemptions)\(speculation)
            """)
        last = s
        lastTime = now
    }
}
