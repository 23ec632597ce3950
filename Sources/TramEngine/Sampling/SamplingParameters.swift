/// How to pick each next token and when to stop: vLLM's `SamplingParams`, with its field
/// meanings, defaults and validation messages (the message names the OpenAI/vLLM field).
///
/// Conventions worth knowing:
/// - `temperature` 0 (below 1e-5, as vLLM) is greedy: the argmax of the processed logits.
/// - `topK` nil, 0 or -1 disables top-k (vLLM uses 0, older vLLM -1); `topP` 1 and `minP` 0
///   disable theirs.
/// - `maxTokens` nil means "up to the context limit", which the caller decides.
/// - `n` is carried for the caller (the engine fans a request out into `n` sequences); the
///   sampler itself always draws one token per row.
public struct SamplingParameters: Sendable, Equatable {
    /// Number of sequences to generate for the prompt (≥ 1).
    public var n: Int
    public var temperature: Double
    public var topP: Double
    public var topK: Int?
    /// Drop tokens whose probability is below `minP` × the top token's probability.
    public var minP: Double
    /// Subtracted once from the logit of every token already in the output (OpenAI's definition).
    public var presencePenalty: Double
    /// Subtracted from each logit once per occurrence of the token in the output.
    public var frequencyPenalty: Double
    /// Hugging Face's repetition penalty over prompt and output: positive logits are divided by
    /// it, negative ones multiplied. 1 disables it.
    public var repetitionPenalty: Double
    /// Added to the logits of the given token ids; values are clamped to [-100, 100] as OpenAI does.
    public var logitBias: [Int: Float]
    public var seed: UInt64?
    public var maxTokens: Int?
    /// No EOS or stop token id is sampled, and no stop applies, before this many output tokens.
    public var minTokens: Int
    /// Strings that end generation; the output is cut before them (see `includeStopStrInOutput`).
    public var stop: [String]
    /// Token ids that end generation (in addition to EOS).
    public var stopTokenIDs: [Int]
    public var ignoreEOS: Bool
    public var includeStopStrInOutput: Bool
    public var skipSpecialTokens: Bool
    /// Carried for API compatibility (vLLM's default is true); Tram's decoder joins special
    /// tokens without spaces.
    public var spacesBetweenSpecialTokens: Bool?
    /// Number of top alternatives returned with each sampled token (0: only the sampled one).
    public var logprobs: Int?
    /// Number of top alternatives returned for each prompt position.
    public var promptLogprobs: Int?

    public init(
        n: Int = 1,
        temperature: Double = 1,
        topP: Double = 1,
        topK: Int? = nil,
        minP: Double = 0,
        presencePenalty: Double = 0,
        frequencyPenalty: Double = 0,
        repetitionPenalty: Double = 1,
        logitBias: [Int: Float] = [:],
        seed: UInt64? = nil,
        maxTokens: Int? = 16,
        minTokens: Int = 0,
        stop: [String] = [],
        stopTokenIDs: [Int] = [],
        ignoreEOS: Bool = false,
        includeStopStrInOutput: Bool = false,
        skipSpecialTokens: Bool = true,
        spacesBetweenSpecialTokens: Bool? = nil,
        logprobs: Int? = nil,
        promptLogprobs: Int? = nil
    ) {
        self.n = n
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.logitBias = logitBias
        self.seed = seed
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.stop = stop
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
        self.includeStopStrInOutput = includeStopStrInOutput
        self.skipSpecialTokens = skipSpecialTokens
        self.spacesBetweenSpecialTokens = spacesBetweenSpecialTokens
        self.logprobs = logprobs
        self.promptLogprobs = promptLogprobs
    }

    /// Below this temperature sampling is greedy (vLLM's `_SAMPLING_EPS`).
    package static let greedyEpsilon = 1e-5

    /// Whether the next token is the argmax of the processed logits.
    public var isGreedy: Bool { temperature < Self.greedyEpsilon }

    /// Top-k as a count, or nil when disabled (nil, 0 or -1).
    public var effectiveTopK: Int? {
        guard let k = topK, k > 0 else { return nil }
        return k
    }

    /// Whether any of the three penalties changes the logits.
    public var hasPenalties: Bool {
        presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1
    }

    /// Checks ranges as vLLM does; the message names the field.
    /// - Parameter vocabularySize: when given, `logitBias` and `stopTokenIDs` must name tokens
    ///   of the vocabulary.
    public func validate(vocabularySize: Int? = nil) throws(EngineError) {
        func fail(_ message: String) -> EngineError { .invalidParameter(message) }
        guard n >= 1 else { throw fail("n must be at least 1, got \(n).") }
        guard presencePenalty.isFinite, (-2...2).contains(presencePenalty) else {
            throw fail("presence_penalty must be in [-2, 2], got \(presencePenalty).")
        }
        guard frequencyPenalty.isFinite, (-2...2).contains(frequencyPenalty) else {
            throw fail("frequency_penalty must be in [-2, 2], got \(frequencyPenalty).")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw fail("repetition_penalty must be greater than zero, got \(repetitionPenalty).")
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw fail("temperature must be non-negative, got \(temperature).")
        }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw fail("top_p must be in (0, 1], got \(topP).") }
        if let k = topK, k < -1 { throw fail("top_k must be 0 or -1 (disable), or at least 1, got \(k).") }
        guard minP.isFinite, (0...1).contains(minP) else { throw fail("min_p must be in [0, 1], got \(minP).") }
        if let m = maxTokens, m < 1 { throw fail("max_tokens must be at least 1, got \(m).") }
        guard minTokens >= 0 else { throw fail("min_tokens must be greater than or equal to 0, got \(minTokens).") }
        if let m = maxTokens, minTokens > m {
            throw fail("min_tokens must be less than or equal to max_tokens=\(m), got \(minTokens).")
        }
        // Upper bounds on n, logprobs, stops and biases are `RequestLimits`' (configurable).
        if let k = logprobs, k < 0 { throw fail("logprobs must be non-negative, got \(k).") }
        if let k = promptLogprobs, k < 0 { throw fail("prompt_logprobs must be non-negative, got \(k).") }
        if stop.contains(where: \.isEmpty) { throw fail("stop cannot contain an empty string.") }
        if let bad = logitBias.first(where: { !$0.value.isFinite }) {
            throw fail("logit_bias must be finite, got \(bad.value) for token \(bad.key).")
        }
        if let id = stopTokenIDs.first(where: { $0 < 0 }) {
            throw fail("stop_token_ids must be non-negative token ids, got \(id).")
        }
        if let vocabularySize {
            let outside = logitBias.keys.filter { $0 < 0 || $0 >= vocabularySize }.sorted()
            if !outside.isEmpty {
                throw fail("logit_bias: token id(s) \(outside) are out of vocabulary (vocabulary size \(vocabularySize)).")
            }
            if let id = stopTokenIDs.first(where: { $0 >= vocabularySize }) {
                throw fail("stop_token_ids: token id \(id) is out of vocabulary (vocabulary size \(vocabularySize)).")
            }
        } else if let id = logitBias.keys.first(where: { $0 < 0 }) {
            throw fail("logit_bias: token id \(id) is out of vocabulary.")
        }
    }
}
