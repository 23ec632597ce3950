public import TramModels

/// Engine settings, named after vLLM's flags.
public struct EngineConfiguration: Sendable, Equatable {
    /// `--max-model-len`: longest prompt + output (default: the model's context length).
    public var maxModelLen: Int?
    /// `--max-num-seqs`: requests running at once.
    public var maxNumSeqs: Int
    /// `--max-num-batched-tokens`: tokens computed per step (prefill chunks + decodes).
    public var maxNumBatchedTokens: Int
    /// `--block-size`: tokens per KV block.
    public var blockSize: Int
    /// `--kv-cache-memory`: bytes for the KV cache (default: from available RAM).
    public var kvCacheMemory: Int?
    /// `--kv-cache-dtype`: the cache's element type (nil, `auto`: the model's default).
    public var kvCacheDType: KVCacheDType?
    /// `--enable-prefix-caching` / `--no-enable-prefix-caching`.
    public var enablePrefixCaching: Bool
    /// `--threads`: kernel worker threads (default: the number of cores).
    public var threads: Int?
    /// `--scheduling-policy`: fcfs or priority.
    public var priorityScheduling: Bool
    /// `--seed`: seeds requests that bring no seed of their own, so runs repeat.
    public var seed: UInt64?
    /// `--max-n`, `--max-logprobs` and the other bounds on what one request may ask for.
    public var requestLimits: RequestLimits

    public init(maxModelLen: Int? = nil, maxNumSeqs: Int = 64, maxNumBatchedTokens: Int = 128, blockSize: Int = 16,
                kvCacheMemory: Int? = nil, enablePrefixCaching: Bool = true, threads: Int? = nil,
                priorityScheduling: Bool = false, seed: UInt64? = nil, kvCacheDType: KVCacheDType? = nil,
                requestLimits: RequestLimits = RequestLimits()) {
        self.maxModelLen = maxModelLen
        self.maxNumSeqs = maxNumSeqs
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.blockSize = blockSize
        self.kvCacheMemory = kvCacheMemory
        self.enablePrefixCaching = enablePrefixCaching
        self.threads = threads
        self.priorityScheduling = priorityScheduling
        self.seed = seed
        self.kvCacheDType = kvCacheDType
        self.requestLimits = requestLimits
    }
}
