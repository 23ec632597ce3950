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
        logger.info("""
            Avg prompt throughput: \(String(format: "%.1f", prompt)) tokens/s, Avg generation throughput: \(String(format: "%.1f", generation)) tokens/s, \
            Running: \(s.numRunning) reqs, Waiting: \(s.numWaiting) reqs, KV cache usage: \(String(format: "%.1f", s.kvCacheUsage * 100))%, \
            Prefix cache hit rate: \(String(format: "%.1f", hitRate))%, Preemptions: \(s.numPreemptions)
            """)
        last = s
        lastTime = now
    }
}
