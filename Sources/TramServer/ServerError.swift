/// Errors of the HTTP layer, each rendered as OpenAI's `{"error": {…}}` with vLLM's status.
public enum ServerError: Error, Equatable {
    /// 400: the request is malformed or a value is out of range.
    case badRequest(String, param: String? = nil)
    /// 404: the requested model is not served here.
    case modelNotFound(String)
    /// 401: missing or wrong API key.
    case unauthorized
    /// 503: the waiting queue is full or the engine is not running.
    case unavailable(String)
    /// 500: a bug of ours.
    case internalError(String)
}
