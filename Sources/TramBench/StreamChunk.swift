import Foundation

/// What the benchmark needs from one streamed chunk of `/v1/completions` or
/// `/v1/chat/completions`: the text it adds, the token counts of a usage chunk, or an error.
///
/// Servers differ in small ways, and this accepts all of those seen: Tram and vLLM send usage in
/// a last chunk whose `choices` is empty; llama-server puts `usage` (and `timings`) on the chunk
/// that carries the finish reason; OpenAI sends `"usage": null` on every other chunk; a chat
/// stream starts with a role-only delta and may end with `"content": null`; reasoning models
/// stream `reasoning_content` (or `reasoning`) before `content`. An error that happens after the
/// stream started arrives as `{"error": {...}}`.
package struct StreamChunk: Equatable, Sendable {
    /// Whether the chunk has a choice at all (a usage-only chunk has none).
    package var hasChoice = false
    /// Text the first choice adds; empty for a role-only delta or a bare finish reason.
    package var text = ""
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var error: String?

    package init(hasChoice: Bool = false, text: String = "", promptTokens: Int? = nil, completionTokens: Int? = nil, error: String? = nil) {
        self.hasChoice = hasChoice
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.error = error
    }

    /// Reads one event's data; nil for the closing `[DONE]`. Data that is not a JSON object
    /// throws.
    package static func parse(_ data: String) throws -> StreamChunk? {
        let trimmed = data.trimmingCharacters(in: .whitespaces)
        if trimmed == "[DONE]" { return nil }
        guard let object = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
            throw BenchError.badResponse(url: "", status: 200, body: "a stream event is not a JSON object: \(trimmed.prefix(200))")
        }
        var chunk = StreamChunk()
        if let error = object["error"] {
            chunk.error = ((error as? [String: Any])?["message"] as? String) ?? "\(error)"
        }
        if let choice = (object["choices"] as? [[String: Any]])?.first {
            chunk.hasChoice = true
            if let text = choice["text"] as? String {
                chunk.text = text
            } else if let delta = choice["delta"] as? [String: Any] {
                let reasoning = (delta["reasoning_content"] as? String) ?? (delta["reasoning"] as? String) ?? ""
                chunk.text = reasoning + ((delta["content"] as? String) ?? "")
            }
        }
        if let usage = object["usage"] as? [String: Any] {
            chunk.promptTokens = usage["prompt_tokens"] as? Int
            chunk.completionTokens = usage["completion_tokens"] as? Int
        }
        return chunk
    }
}
