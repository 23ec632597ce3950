/// Why the engine refused or failed a request.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// A sampling parameter is out of range.
    case invalidParameter(String)
    /// A request field is out of range or over a `RequestLimits` bound; `param` names it.
    case invalidField(String, param: String)
    /// The prompt (plus at least one generated token) does not fit the context.
    case promptTooLong(promptTokens: Int, maxModelLength: Int)
    /// The prompt is empty.
    case emptyPrompt
    /// The model failed on a batch (bad ids and the like).
    case model(String)
    /// The engine is shutting down and takes no more requests.
    case shutdown
    /// Engine settings that cannot work together (KV cache too small for one sequence, …).
    case invalidConfiguration(String)
    /// The waiting queue already holds `limit` requests (`--max-num-queued-reqs`).
    case queueFull(limit: Int)

    public var description: String {
        switch self {
        case let .invalidParameter(m): m
        case let .invalidField(m, _): m
        case let .promptTooLong(p, m):
            "This model's maximum context length is \(m) tokens. However, your request has \(p) input tokens. Please reduce the length of the input."
        case .emptyPrompt: "the prompt must contain at least one token"
        case let .model(m): m
        case let .invalidConfiguration(m): m
        case .shutdown: "the engine is shutting down"
        case let .queueFull(limit): "The server is overloaded: \(limit) requests are already waiting. Retry later."
        }
    }
}
