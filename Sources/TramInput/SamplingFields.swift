public import TramEngine

/// The sampling fields of a request body under their OpenAI and vLLM wire names, shared by the
/// HTTP server and `tram generate --input` so that both read a request the same way.
/// Absent fields leave the base parameters alone.
public struct SamplingFields: Decodable, Sendable {
    public var temperature: Double?
    public var top_p: Double?
    public var top_k: Int?
    public var min_p: Double?
    public var n: Int?
    public var stop: StopStrings?
    public var seed: Int?
    public var presence_penalty: Double?
    public var frequency_penalty: Double?
    public var repetition_penalty: Double?
    public var logit_bias: [String: Double]?
    public var ignore_eos: Bool?
    public var min_tokens: Int?
    public var stop_token_ids: [Int]?
    public var skip_special_tokens: Bool?
    public var spaces_between_special_tokens: Bool?
    public var include_stop_str_in_output: Bool?
    public var prompt_logprobs: Int?
    public var priority: Int?

    /// `stop`: one string or a list of strings.
    public struct StopStrings: Decodable, Sendable {
        public var values: [String]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { values = [s] } else { values = try c.decode([String].self) }
        }
    }

    /// `base` with every field the request gives applied. Only shape errors are reported here
    /// (a `logit_bias` key that is not a token id, a seed out of range); ranges are checked by
    /// `SamplingParameters.validate`.
    public func apply(to base: SamplingParameters) throws(EngineError) -> SamplingParameters {
        var p = base
        if let v = temperature { p.temperature = v }
        if let v = top_p { p.topP = v }
        if let v = top_k { p.topK = v }
        if let v = min_p { p.minP = v }
        if let v = n { p.n = v }
        if let v = stop { p.stop = v.values }
        if let s = seed {
            // vLLM takes any integer; a negative seed names the same stream as its magnitude.
            guard let v = UInt64(exactly: s.magnitude) else { throw .invalidParameter("seed is out of range") }
            p.seed = v
        }
        if let v = presence_penalty { p.presencePenalty = v }
        if let v = frequency_penalty { p.frequencyPenalty = v }
        if let v = repetition_penalty { p.repetitionPenalty = v }
        if let bias = logit_bias {
            var b: [Int: Float] = [:]
            for (k, v) in bias {
                guard let id = Int(k) else { throw .invalidParameter("logit_bias keys must be token ids, got '\(k)'") }
                b[id] = Float(v)
            }
            p.logitBias = b
        }
        if let v = ignore_eos { p.ignoreEOS = v }
        if let v = min_tokens { p.minTokens = v }
        if let v = stop_token_ids { p.stopTokenIDs = v }
        if let v = skip_special_tokens { p.skipSpecialTokens = v }
        if let v = spaces_between_special_tokens { p.spacesBetweenSpecialTokens = v }
        if let v = include_stop_str_in_output { p.includeStopStrInOutput = v }
        if let v = prompt_logprobs { p.promptLogprobs = v }
        return p
    }
}
