import Foundation
import Hummingbird
import Logging
import NIOCore
import TramEngine
import TramGrammar
import TramInput
import TramModels
import TramTemplate
import TramTokenizer

extension OpenAIServer {
    /// One engine output, tagged with the OpenAI choice index it belongs to.
    struct ChoiceOutput: Sendable {
        var choice: Int
        /// Which prompt of the request it answers.
        var prompt: Int
        var output: RequestOutput
    }

    /// Submits every prompt and merges their outputs into one stream. Every prompt is admitted
    /// (or refused: queue full, engine down) before this returns, so a refusal is still an HTTP
    /// status. Dropping the stream cancels the tasks that read the engine streams, which aborts
    /// every request in the engine.
    ///
    /// When the client's connection closes (see `HangUpHandler`), the stream ends at once with a
    /// `CancellationError` and the requests are aborted at the next step boundary, whether the
    /// response streams or not and whether the requests are still queued, prefilling or decoding:
    /// a hang-up is noticed from the connection, not from a failed write of the first token.
    func submitAll(_ prompts: [[Int]], _ parameters: SamplingParameters, priority: Int,
                   logitsProcessor: (@Sendable () -> any LogitsProcessor)?, id: String,
                   channel: any Channel) throws -> AsyncThrowingStream<ChoiceOutput, any Error> {
        if isDraining { throw ServerError.unavailable("the server is shutting down") }
        let n = parameters.n
        let engine = self.engine
        var streams: [AsyncThrowingStream<RequestOutput, any Error>] = []
        do {
            for (i, prompt) in prompts.enumerated() {
                let request = EngineRequest(promptTokenIDs: prompt, parameters: parameters, priority: priority,
                                            makeLogitsProcessor: logitsProcessor)
                streams.append(try engine.trySubmit(request, id: "\(id)-\(i)", maxQueued: configuration.maxNumQueuedRequests))
            }
        } catch {
            for i in streams.indices { engine.abort("\(id)-\(i)") }
            throw Self.mapEngineError(error)
        }
        let (stream, continuation) = AsyncThrowingStream<ChoiceOutput, any Error>.makeStream()
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, engineStream) in streams.enumerated() {
                        group.addTask {
                            for try await output in engineStream {
                                continuation.yield(ChoiceOutput(choice: i * n + output.index, prompt: i, output: output))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        // NIO cannot unregister a close callback, and a keep-alive connection may carry many
        // requests: the callback holds only this hook, which lets go of the stream and task as
        // soon as the request ends, so a long-lived connection keeps a few bytes per request.
        let hangUp = HangUpHook {
            continuation.finish(throwing: CancellationError())
            task.cancel()
        }
        continuation.onTermination = { _ in
            hangUp.clear()
            task.cancel()
        }
        channel.closeFuture.whenComplete { _ in hangUp.fire() }
        return stream
    }

    /// Logs a request as vLLM's `--enable-log-requests` does.
    func logRequest(_ id: String, prompt: String?, tokenIDs: [[Int]], _ parameters: SamplingParameters) {
        guard configuration.logRequests else { return }
        logger.info("Received request \(id): prompt: \(prompt.map { String(reflecting: $0) } ?? "None"), params: \(parameters), prompt_token_ids: \(tokenIDs.count == 1 ? "\(tokenIDs[0])" : "\(tokenIDs)")")
    }

    /// The fields every response and chunk starts with.
    struct Header: Sendable {
        var id: String
        var object: String
        var created: Int
        var model: String
    }

    static func requestID(_ prefix: String) -> String {
        prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    /// A JSON response body.
    static func jsonResponse(_ value: some Encodable) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try makeEncoder().encode(value))))
    }

    /// A server-sent-events response whose events `body` writes.
    static func eventStream(_ body: @escaping @Sendable (inout SSEWriter) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            var events = SSEWriter(writer)
            do {
                try await body(&events)
            } catch {
                try await events.send(error: error)
            }
            try await events.finish()
        })
    }

    /// A non-streaming request's outputs, gathered per choice.
    struct Collected {
        var texts: [String]
        var finishes: [Finish?]
        var tokenIDs: [[Int]]
        var logprobs: [[TokenLogprobs]]
        /// Per prompt, when prompt logprobs were computed.
        var promptLogprobs: [Int: [TokenLogprobs?]] = [:]
        /// Per prompt: its tokens served from the prefix cache.
        var cachedTokens = CachedTokens()
        var completionTokens: Int { tokenIDs.reduce(0) { $0 + $1.count } }
    }

    /// Gathers a non-streaming request's outputs (a hang-up ends `outputs`: see `submitAll`).
    static func collect(_ outputs: AsyncThrowingStream<ChoiceOutput, any Error>, choices: Int) async throws -> Collected {
        var c = Collected(texts: Array(repeating: "", count: choices), finishes: Array(repeating: nil, count: choices),
                          tokenIDs: Array(repeating: [], count: choices), logprobs: Array(repeating: [], count: choices))
        do {
            for try await o in outputs {
                c.texts[o.choice] += o.output.text
                c.tokenIDs[o.choice] += o.output.tokenIDs
                c.logprobs[o.choice] += o.output.logprobs
                if let f = o.output.finish { c.finishes[o.choice] = f }
                if let p = o.output.promptLogprobs { c.promptLogprobs[o.prompt] = p }
                c.cachedTokens.record(o)
            }
        } catch {
            throw mapEngineError(error)
        }
        return c
    }

    /// Prompt tokens served from the prefix cache, per prompt (sample 0's count: the `n`
    /// samples of a prompt share it), for `usage.prompt_tokens_details.cached_tokens`.
    struct CachedTokens {
        private var byPrompt: [Int: Int] = [:]
        mutating func record(_ o: ChoiceOutput) {
            if o.output.index == 0 { byPrompt[o.prompt] = o.output.cachedPromptTokenCount }
        }
        var total: Int { byPrompt.values.reduce(0, +) }
    }

}

/// What a request does when its connection closes, held until it ends (then dropped).
package final class HangUpHook: @unchecked Sendable {
    private let lock = NSLock()
    private var action: (@Sendable () -> Void)?

    package init(_ action: @escaping @Sendable () -> Void) { self.action = action }

    /// Runs the action, once.
    package func fire() {
        lock.lock()
        let run = action
        action = nil
        lock.unlock()
        run?()
    }

    /// Drops the action (the request ended): what it captured is freed.
    package func clear() {
        lock.lock()
        action = nil
        lock.unlock()
    }

    package var isArmed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return action != nil
    }
}
