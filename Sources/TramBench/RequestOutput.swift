/// One benchmark request as the client saw it: success, timings and token counts. Times are
/// in seconds; `startTime` counts from the benchmark's origin, the others from the moment the
/// request was sent.
///
///     sent        first text          chunk        chunk         last text
///      |── ttft ──────|── itl[0] ──────|── itl[1] ───|── itl[2] ───|
///      |──────────────────────────── latency (E2EL) ────────────────|
///
/// A chunk counts when it adds text: a role-only chat delta, a bare finish reason or the usage
/// chunk carries no token and is not timed (Tram sends its role chunk before the prompt is
/// computed, so counting it would report a time to first token of almost nothing).
package struct RequestOutput: Sendable {
    package var success = false
    package var generatedText = ""
    package var latency: Double = 0
    package var ttft: Double = 0
    package var itl: [Double] = []
    /// Prompt tokens: the dataset's count, replaced by the server's `usage.prompt_tokens`.
    package var promptLen: Int
    /// The server's `usage.completion_tokens`, when it sent usage.
    package var outputTokens: Int?
    /// Chunks that carried text: at most one per token, fewer when a server holds back a
    /// token's incomplete UTF-8 or sends several tokens in one chunk.
    package var textChunks = 0
    package var error = ""
    package var startTime: Double = 0

    package init(promptLen: Int) { self.promptLen = promptLen }
}
