/// Why a request stopped producing tokens, in OpenAI's vocabulary.
public enum FinishReason: String, Sendable, Equatable {
    /// EOS, a stop token id or a stop string.
    case stop
    /// `max_tokens` or the context limit.
    case length
    /// The client went away or the request was cancelled.
    case abort
}

/// What exactly stopped a `.stop` request (vLLM's `stop_reason`); EOS has none.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
    /// A stop string matched.
    case string(String)
    /// A token of `stopTokenIDs` was sampled.
    case tokenID(Int)

    public var description: String {
        switch self {
        case let .string(s): String(reflecting: s)
        case let .tokenID(id): String(id)
        }
    }
}

/// The end of a request: the reason and, for `.stop`, what matched (nil for EOS).
public struct Finish: Sendable, Equatable {
    public var reason: FinishReason
    public var stopReason: StopReason?

    public init(reason: FinishReason, stopReason: StopReason? = nil) {
        self.reason = reason
        self.stopReason = stopReason
    }
}
