/// A snapshot of the scheduler for logs and the metrics endpoint.
package struct SchedulerStats: Sendable, Equatable {
    package var numRunning: Int
    package var numWaiting: Int
    /// Fraction of KV blocks referenced by requests.
    package var kvCacheUsage: Double
    /// Preemptions since start.
    package var numPreemptions: Int
    /// Prompt tokens looked up in / found in the prefix cache since start.
    package var prefixCacheQueries: Int
    package var prefixCacheHits: Int
    /// Tokens scheduled by the latest step, and since start.
    package var numScheduledTokens: Int
    package var totalScheduledTokens: Int
}
