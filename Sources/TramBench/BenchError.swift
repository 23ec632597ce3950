/// Why `tram bench serve` could not run. A single request that fails is not an error: it is
/// counted as failed in the results, as vLLM counts it.
package enum BenchError: Error, CustomStringConvertible {
    /// `--base-url` is not an `http://host[:port][/path]` URL.
    case invalidBaseURL(String, reason: String)
    /// The server could not be reached or broke the connection.
    case connection(url: String, reason: String)
    /// The server answered, but not with what an OpenAI-compatible server answers.
    case badResponse(url: String, status: Int, body: String)
    /// A flag's value is out of range or contradicts another flag.
    case invalidOption(String)
    /// The random dataset could not build a prompt of exactly the requested token count.
    case promptLength(target: Int, got: Int, attempts: Int)

    package var description: String {
        switch self {
        case let .invalidBaseURL(url, reason): "invalid base URL '\(url)': \(reason)"
        case let .connection(url, reason): "cannot reach \(url): \(reason)"
        case let .badResponse(url, status, body): "\(url) answered HTTP \(status): \(body.prefix(500))"
        case let .invalidOption(message): message
        case let .promptLength(target, got, attempts):
            "could not build a prompt of exactly \(target) tokens (re-tokenizing gave \(got) after \(attempts) attempts)"
        }
    }
}
