public import TramModels

/// Engine settings, named after vLLM's flags.
public struct EngineConfiguration: Sendable, Equatable {
    /// `--max-model-len`: longest prompt + output (default: the model's context length).
    public var maxModelLen: Int?
    /// `--max-num-seqs`: requests running at once.
    public var maxNumSeqs: Int
    /// `--max-num-batched-tokens`: tokens computed per step (prefill chunks + decodes); nil picks
    /// `defaultMaxNumBatchedTokens(matmulParameters:)` for the model.
    public var maxNumBatchedTokens: Int?
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
    /// `--speculative-config`: speculative decoding (nil: off).
    public var speculativeConfig: SpeculativeConfig?
    /// What verifying and drafting cost, for choosing proposal lengths (nil: measured at
    /// start-up when speculation is on; tests fix it so their step counts do not depend on timing).
    public var speculationPolicy: SpeculationPolicy?

    public init(maxModelLen: Int? = nil, maxNumSeqs: Int = 64, maxNumBatchedTokens: Int? = nil, blockSize: Int = 16,
                kvCacheMemory: Int? = nil, enablePrefixCaching: Bool = true, threads: Int? = nil,
                priorityScheduling: Bool = false, seed: UInt64? = nil, kvCacheDType: KVCacheDType? = nil,
                requestLimits: RequestLimits = RequestLimits(), speculativeConfig: SpeculativeConfig? = nil) {
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
        self.speculativeConfig = speculativeConfig
    }

    /// The token budget per step when `--max-num-batched-tokens` is not given, by the model's
    /// size: a step costs about 2 × `matmulParameters` FLOPs per token, so a budget right for a
    /// 135M model (128: full throughput, prefill chunks short enough to keep P99 inter-token
    /// latency low) makes a 1.5B model's steps 11× longer, stalling every running stream while a
    /// long prompt prefills. Larger models get smaller budgets, never fewer than
    /// `minimumDefaultBatchedTokens` tokens (a decode batch still fits). Measured in
    /// BENCHMARKS.md ("--max-num-batched-tokens sweep").
    public static func defaultMaxNumBatchedTokens(matmulParameters: Int) -> Int {
        let tokens = stepParameterTokens / max(matmulParameters, 1)
        return min(128, max(minimumDefaultBatchedTokens, tokens / 16 * 16))
    }

    /// Tokens × parameters of the default step: 128 tokens of a 135M model.
    static let stepParameterTokens = 128 * 135_000_000
    static let minimumDefaultBatchedTokens = 64
}
