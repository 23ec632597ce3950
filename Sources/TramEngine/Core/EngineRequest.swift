/// A request as the engine accepts it: already tokenized, with its sampling parameters.
public struct EngineRequest: Sendable {
    public var promptTokenIDs: [Int]
    public var parameters: SamplingParameters
    /// Smaller runs first under the priority policy.
    public var priority: Int
    /// Requests with different salts never share prefix-cache blocks.
    public var cacheSalt: String?
    /// When the request arrived, by default when it was made: time to first token and end-to-end
    /// latency count from here, as vLLM's count from its frontend's arrival time, so that the
    /// wait for the engine thread to take it (up to a step) is included.
    public var arrivalTime: ContinuousClock.Instant
    /// Makes the `LogitsProcessor` of each of the request's samples (nil: none), called once per
    /// sample when the engine accepts the request.
    public var makeLogitsProcessor: (@Sendable () -> any LogitsProcessor)?

    public init(promptTokenIDs: [Int], parameters: SamplingParameters, priority: Int = 0, cacheSalt: String? = nil,
                arrivalTime: ContinuousClock.Instant = .now, makeLogitsProcessor: (@Sendable () -> any LogitsProcessor)? = nil) {
        self.promptTokenIDs = promptTokenIDs
        self.parameters = parameters
        self.priority = priority
        self.cacheSalt = cacheSalt
        self.arrivalTime = arrivalTime
        self.makeLogitsProcessor = makeLogitsProcessor
    }
}

/// What one request produced in one engine step: the new tokens of one of its `n` samples and
/// the text they completed (never half a UTF-8 character, never the start of a stop string).
public struct RequestOutput: Sendable, Equatable {
    /// Which of the request's `n` samples this is.
    public var index: Int
    public var tokenIDs: [Int]
    public var text: String
    /// One entry per new token when `logprobs` was asked for.
    public var logprobs: [TokenLogprobs]
    /// With the first output of sample 0 when `prompt_logprobs` was asked for (entry 0 is nil).
    public var promptLogprobs: [TokenLogprobs?]?
    public var finish: Finish?
    public var promptTokenCount: Int
    /// Prompt tokens found in the prefix cache when the request was first scheduled.
    public var cachedPromptTokenCount: Int

    public init(index: Int, tokenIDs: [Int], text: String, logprobs: [TokenLogprobs] = [], promptLogprobs: [TokenLogprobs?]? = nil,
                finish: Finish?, promptTokenCount: Int, cachedPromptTokenCount: Int = 0) {
        self.index = index
        self.tokenIDs = tokenIDs
        self.text = text
        self.logprobs = logprobs
        self.promptLogprobs = promptLogprobs
        self.finish = finish
        self.promptTokenCount = promptTokenCount
        self.cachedPromptTokenCount = cachedPromptTokenCount
    }
}
