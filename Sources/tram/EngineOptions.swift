import ArgumentParser
import Logging
import TramEngine
import TramModels

/// Engine flags shared by the commands that run the engine, named as vLLM names them.
struct EngineOptions: ParsableArguments {
    @Option(help: "Longest prompt + output in tokens (default: the model's context length).")
    var maxModelLen: Int?

    @Option(help: "Requests running at once.")
    var maxNumSeqs = 64

    // Default by model size (EngineConfiguration.defaultMaxNumBatchedTokens): 128 for a 135M
    // model, by measurement on a 2-core CPU (BENCHMARKS.md, sweeps), fewer for larger ones.
    @Option(help: "Tokens computed per engine step (prefill chunks and decodes together) (default: by model size: 128 for a 135M model, down to 64 from 270M parameters).")
    var maxNumBatchedTokens: Int?

    @Option(help: "Tokens per KV cache block.")
    var blockSize = 16

    @Option(help: "RAM for the KV cache, e.g. 2GiB or 512MiB (default: from available memory).")
    var kvCacheMemory: String?

    @Option(help: "KV cache element type: auto (the model's: f32 for f32 weights or --float32, else float16), float16 or float32.")
    var kvCacheDtype = "auto"

    @Flag(inversion: .prefixedNo, help: "Reuse KV blocks of identical prompt prefixes (automatic prefix caching).")
    var enablePrefixCaching = true

    @Option(help: "Order in which waiting requests are admitted: fcfs, or priority (lower value first, then arrival).")
    var schedulingPolicy = "fcfs"

    @Option(help: "Kernel worker threads (default: the number of cores).")
    var threads: Int?

    @Option(help: "Seed for requests that bring none, so runs repeat.")
    var seed: UInt64?

    @Option(help: "Quantize a float model's linear weights at load: int8 (to GGML Q8_0) or none (weights as stored).")
    var quantization: String?

    @Option(help: "Largest n (samples per prompt) a request may ask for.")
    var maxN = RequestLimits.defaultMaxN

    @Option(help: "Largest logprobs, top_logprobs and prompt_logprobs a request may ask for (-1: the vocabulary size).")
    var maxLogprobs = RequestLimits.defaultMaxLogprobs

    @Option(help: ArgumentHelp("Speculative decoding, as vLLM's JSON: {\"method\": \"ngram\", \"num_speculative_tokens\": 5, \"prompt_lookup_max\": 4, \"prompt_lookup_min\": 2} or a draft model of the same vocabulary: {\"model\": \"qwen2.5-coder-0.5b-instruct\", \"num_speculative_tokens\": 4} (optional: \"disable_by_batch_size\", default 4).", valueName: "json"))
    var speculativeConfig: String?

    func validate() throws {
        _ = try speculative()
        _ = try precision()
        _ = try kvCacheDType()
        guard ["fcfs", "priority"].contains(schedulingPolicy) else {
            throw ValidationError("--scheduling-policy must be fcfs or priority, got '\(schedulingPolicy)'")
        }
        if let problem = RequestLimits(maxN: maxN, maxLogprobs: maxLogprobs).problem { throw ValidationError(problem) }
        if let text = kvCacheMemory, KVCacheSizing.parse(bytes: text) == nil {
            throw ValidationError("--kv-cache-memory: cannot read '\(text)' as a size (e.g. 2GiB, 512MiB, 1073741824)")
        }
    }

    /// `--speculative-config`, parsed.
    func speculative() throws -> SpeculativeConfig? {
        guard let text = speculativeConfig else { return nil }
        do { return try SpeculativeConfig(json: text) } catch { throw ValidationError(error.description) }
    }

    /// The draft model a draft-model `--speculative-config` names, loaded as the target is
    /// (same weight precision and threads); nil for other configs.
    func loadDraft(logger: Logger) throws -> LoadedModel? {
        guard case .draftModel(let name)? = try speculative()?.method else { return nil }
        return try loadModel(name, precision: precision(), threads: threads, logger: logger)
    }

    /// `--quantization` as the model loader takes it.
    func precision() throws -> WeightPrecision {
        do { return try WeightPrecision(quantization: quantization) } catch { throw ValidationError("--quantization: \(error.description)") }
    }

    /// `--kv-cache-dtype`; nil for auto.
    func kvCacheDType() throws -> KVCacheDType? {
        if kvCacheDtype == "auto" { return nil }
        guard let dtype = KVCacheDType(rawValue: kvCacheDtype) else {
            throw ValidationError("--kv-cache-dtype must be auto, float16 or float32, got '\(kvCacheDtype)'")
        }
        return dtype
    }

    func configuration() throws -> EngineConfiguration {
        var memory: Int?
        if let text = kvCacheMemory {
            guard let bytes = KVCacheSizing.parse(bytes: text) else {
                throw ValidationError("--kv-cache-memory: cannot read '\(text)' as a size (e.g. 2GiB, 512MiB, 1073741824)")
            }
            memory = bytes
        }
        return EngineConfiguration(
            maxModelLen: maxModelLen, maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens, blockSize: blockSize,
            kvCacheMemory: memory, enablePrefixCaching: enablePrefixCaching, threads: threads,
            priorityScheduling: schedulingPolicy == "priority", seed: seed, kvCacheDType: try kvCacheDType(),
            requestLimits: RequestLimits(maxN: maxN, maxLogprobs: maxLogprobs), speculativeConfig: try speculative())
    }
}
