/// How to pick each next token. Values follow OpenAI/vLLM conventions: temperature 0 is greedy,
/// `topK` nil or 0 disables top-k (vLLM uses -1 for that), `topP` 1 disables nucleus sampling.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Double
    public var topP: Double
    public var topK: Int?
    public var seed: UInt64?
    public var maxTokens: Int

    public init(temperature: Double = 1, topP: Double = 1, topK: Int? = nil, seed: UInt64? = nil, maxTokens: Int = 16) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.maxTokens = maxTokens
    }

    /// Checks ranges as vLLM does; the message names the field.
    public func validate() throws(EngineError) {
        guard temperature.isFinite, temperature >= 0 else { throw .invalidParameter("temperature must be >= 0, got \(temperature)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw .invalidParameter("top_p must be in (0, 1], got \(topP)") }
        if let k = topK, k < -1 { throw .invalidParameter("top_k must be -1 (disable), or at least 1, got \(k)") }
        if topK == 0 { throw .invalidParameter("top_k must be -1 (disable), or at least 1, got 0") }
        guard maxTokens >= 1 else { throw .invalidParameter("max_tokens must be at least 1, got \(maxTokens)") }
    }
}
