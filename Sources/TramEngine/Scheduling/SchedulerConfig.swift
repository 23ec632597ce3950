/// The limits one scheduler works within (vLLM's `SchedulerConfig` + cache config).
package struct SchedulerConfig: Sendable, Equatable {
    /// Which waiting request is admitted next and which running one is preempted first.
    package enum Policy: Sendable, Equatable {
        /// Arrival order; the most recently admitted running request is preempted first.
        case fcfs
        /// Lowest `priority` value first, ties by arrival; the running request with the highest
        /// `priority` value (latest arrival among equals) is preempted first.
        case priority
    }

    /// Most requests running at once (`--max-num-seqs`).
    package var maxNumSeqs: Int
    /// Token budget of one step (`--max-num-batched-tokens`).
    package var maxNumBatchedTokens: Int
    /// Longest sequence, prompt plus output.
    package var maxModelLen: Int
    package var blockSize: Int
    package var numBlocks: Int
    package var enablePrefixCaching: Bool
    package var policy: Policy
    /// When set, no request gets more than this many tokens in one step, so one long prompt
    /// cannot take a whole step's budget while others wait (vLLM `long_prefill_token_threshold`).
    package var longPrefillTokenThreshold: Int?

    package init(
        maxNumSeqs: Int = 256, maxNumBatchedTokens: Int = 2048, maxModelLen: Int = 4096,
        blockSize: Int = 16, numBlocks: Int = 1024, enablePrefixCaching: Bool = true,
        policy: Policy = .fcfs, longPrefillTokenThreshold: Int? = nil
    ) {
        self.maxNumSeqs = maxNumSeqs
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.maxModelLen = maxModelLen
        self.blockSize = blockSize
        self.numBlocks = numBlocks
        self.enablePrefixCaching = enablePrefixCaching
        self.policy = policy
        self.longPrefillTokenThreshold = longPrefillTokenThreshold
    }

    /// Why this configuration cannot run, or nil. The pool must hold one sequence of
    /// `maxModelLen` tokens, otherwise a lone request could preempt itself forever.
    package var problem: String? {
        if maxNumSeqs < 1 { return "max-num-seqs must be at least 1" }
        if maxNumBatchedTokens < 1 { return "max-num-batched-tokens must be at least 1" }
        if maxModelLen < 2 { return "max-model-len must be at least 2" }
        if blockSize < 1 { return "block-size must be at least 1" }
        if let t = longPrefillTokenThreshold, t < 1 { return "long-prefill-token-threshold must be at least 1" }
        if numBlocks < 1 || numBlocks * blockSize < maxModelLen {
            return "the KV cache (\(numBlocks) blocks of \(blockSize) tokens) cannot hold one sequence of max-model-len \(maxModelLen) tokens"
        }
        return nil
    }
}
