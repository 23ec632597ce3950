/// What one request may ask for, checked before anything is allocated for it, so that a single
/// body cannot take the server down or hold the engine for minutes: `n: 1000000000000` once
/// made the server allocate 16 TB and abort, and `n: 100000` queued 100,000 sequences.
///
/// Each refusal is an `EngineError.invalidField` naming the request field (the HTTP layer's
/// 400 `param`). The engine checks the per-prompt limits again for every request it is given
/// (`EngineCore.validate`), whoever the caller is; the request-level ones (how many prompts,
/// their total tokens) belong to whoever splits a request into prompts.
public struct RequestLimits: Sendable, Equatable {
    /// Largest `n` (samples per prompt): OpenAI's cap (`--max-n`).
    public var maxN: Int
    /// Largest `logprobs`, `top_logprobs` and `prompt_logprobs`: vLLM's `--max-logprobs`
    /// (-1: the vocabulary size).
    public var maxLogprobs: Int
    /// Largest number of prompts in one completions request.
    public var maxPrompts: Int
    /// Largest number of sequences one request fans out to (prompts × n).
    public var maxSequences: Int
    /// Largest number of `stop` strings.
    public var maxStopStrings: Int
    /// Largest number of `stop_token_ids`.
    public var maxStopTokenIDs: Int
    /// Largest number of `logit_bias` entries.
    public var maxLogitBias: Int
    /// Most prompt tokens all prompts of one request may bring together (nil: no limit). The
    /// server sets it to the KV cache's capacity: a request can never need more prefill than
    /// the whole cache holds at once.
    public var maxTotalPromptTokens: Int?

    public static let defaultMaxN = 128
    public static let defaultMaxLogprobs = 20

    public init(maxN: Int = defaultMaxN, maxLogprobs: Int = defaultMaxLogprobs, maxPrompts: Int = 128, maxSequences: Int = 256,
                maxStopStrings: Int = 64, maxStopTokenIDs: Int = 1024, maxLogitBias: Int = 1024, maxTotalPromptTokens: Int? = nil) {
        self.maxN = maxN
        self.maxLogprobs = maxLogprobs
        self.maxPrompts = maxPrompts
        self.maxSequences = maxSequences
        self.maxStopStrings = maxStopStrings
        self.maxStopTokenIDs = maxStopTokenIDs
        self.maxLogitBias = maxLogitBias
        self.maxTotalPromptTokens = maxTotalPromptTokens
    }

    /// Why these limits cannot work (for flag validation), or nil.
    public var problem: String? {
        if maxN < 1 { return "--max-n must be at least 1, got \(maxN)" }
        if maxLogprobs < -1 { return "--max-logprobs must be -1 (the vocabulary size) or at least 0, got \(maxLogprobs)" }
        return nil
    }

    /// The per-prompt limits on sampling parameters. `logprobsFields` names the fields that set
    /// `logprobs` (`top_logprobs` for chat), so the message names what the client sent.
    public func check(_ p: SamplingParameters, vocabularySize: Int? = nil, logprobsField: String = "logprobs") throws(EngineError) {
        if p.n > maxN { throw .invalidField("n must be at most \(maxN), got \(p.n).", param: "n") }
        let cap = maxLogprobs == -1 ? (vocabularySize ?? Int.max) : maxLogprobs
        if let k = p.logprobs, k > cap {
            throw .invalidField("\(logprobsField): requested \(k), which is greater than the maximum allowed: \(cap).", param: logprobsField)
        }
        if let k = p.promptLogprobs, k > cap {
            throw .invalidField("prompt_logprobs: requested \(k), which is greater than the maximum allowed: \(cap).", param: "prompt_logprobs")
        }
        if p.stop.count > maxStopStrings {
            throw .invalidField("stop may hold at most \(maxStopStrings) strings, got \(p.stop.count).", param: "stop")
        }
        if p.stopTokenIDs.count > maxStopTokenIDs {
            throw .invalidField("stop_token_ids may hold at most \(maxStopTokenIDs) ids, got \(p.stopTokenIDs.count).", param: "stop_token_ids")
        }
        if p.logitBias.count > maxLogitBias {
            throw .invalidField("logit_bias may hold at most \(maxLogitBias) entries, got \(p.logitBias.count).", param: "logit_bias")
        }
    }

    /// The request-level limit on how many prompts, and sequences, one request brings.
    public func check(promptCount: Int, n: Int) throws(EngineError) {
        if promptCount > maxPrompts {
            throw .invalidField("prompt may hold at most \(maxPrompts) prompts, got \(promptCount).", param: "prompt")
        }
        let (sequences, overflow) = promptCount.multipliedReportingOverflow(by: n)
        if overflow || sequences > maxSequences {
            throw .invalidField("a request may ask for at most \(maxSequences) sequences (prompts × n), got \(promptCount) × \(n).", param: "n")
        }
    }

    /// The request-level limit on the prompts' total tokens.
    public func check(totalPromptTokens: Int, param: String = "prompt") throws(EngineError) {
        if let cap = maxTotalPromptTokens, totalPromptTokens > cap {
            throw .invalidField("""
                The prompts of this request hold \(totalPromptTokens) tokens in all, more than the \(cap) tokens the KV cache \
                can hold. Please send fewer or shorter prompts.
                """, param: param)
        }
    }
}
