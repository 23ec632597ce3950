/// What one `Scheduler.schedule()` step decided, as a plain value: the engine builds the
/// `ForwardBatch` from it and hands it back to `Scheduler.updateFromOutput` with the sampled
/// tokens. It hides the scheduler's queues and the block pool behind ids and block tables.
package struct SchedulerOutput: Sendable, Equatable {
    /// One request's share of the step.
    ///
    ///     | computed before |   tokenIDs (numNewTokens)   |
    ///     0         numComputedTokens       numComputedTokens + numNewTokens
    package struct ScheduledRequest: Sendable, Equatable {
        package var id: RequestID
        package var numNewTokens: Int
        /// Tokens whose KV was already in the cache before this step (the first new position).
        package var numComputedTokens: Int
        /// The slice of prompt + output computed this step, then the proposed tokens verified
        /// with it. // [numNewTokens]
        package var tokenIDs: [Int32]
        /// The last `numSpecTokens` of `tokenIDs`: proposed tokens (speculative decoding), each
        /// verified by the logits of the row before it; the last row samples the next token.
        package var numSpecTokens = 0
        /// The request's whole block table (logical block → physical block).
        package var blockTable: [Int32]
        /// True when this step reaches the end of the request's known tokens, so its last row's
        /// logits are sampled. False for a prompt chunk that leaves part of the prompt uncomputed.
        package var samplesToken: Bool
    }

    package var scheduled: [ScheduledRequest] = []
    /// Requests preempted during this step (they hold no blocks now).
    package var preemptedIDs: [RequestID] = []
    /// Requests that finished or were aborted since the previous step, so the model runner can
    /// drop anything it keeps per request.
    package var finishedIDs: [RequestID] = []
    package var totalNumScheduledTokens = 0

    package init() {}
}
