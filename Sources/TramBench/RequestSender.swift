package import Foundation
import NIOCore
import NIOHTTP1

/// Which OpenAI API the benchmark drives (vLLM's `openai` and `openai-chat` backends).
package enum APIKind: String, Sendable {
    /// `/v1/completions`: the prompt text as `prompt`.
    case completions
    /// `/v1/chat/completions`: the prompt text as one user message.
    case chat
}

/// Sends one streamed request and times it, as vLLM's `async_request_openai_completions` and
/// `async_request_openai_chat_completions` do: `stream: true` with
/// `stream_options.include_usage`, `max_tokens` set to the expected output length, `ignore_eos`
/// when asked. Any failure — refused connection, non-200 status, error event, no text at all —
/// is recorded in the output, never thrown.
package struct RequestSender: Sendable {
    package var client: HTTPClient
    package var endpoint: String
    package var api: APIKind
    package var model: String
    package var ignoreEOS: Bool
    /// Sent when set; nil leaves sampling to the server's defaults.
    package var temperature: Double?
    /// Times are measured from here (`RequestOutput.startTime`).
    package var origin: ContinuousClock.Instant

    package init(client: HTTPClient, endpoint: String, api: APIKind, model: String, ignoreEOS: Bool, temperature: Double?,
                 origin: ContinuousClock.Instant = ContinuousClock.now) {
        self.client = client
        self.endpoint = endpoint
        self.api = api
        self.model = model
        self.ignoreEOS = ignoreEOS
        self.temperature = temperature
        self.origin = origin
    }

    /// The JSON body for `request`.
    package func payload(_ request: SampleRequest) -> Data {
        var body: [String: Any] = [
            "model": model,
            "stream": true,
            "stream_options": ["include_usage": true],
            "max_tokens": request.expectedOutputLen,
        ]
        switch api {
        case .completions:
            body["prompt"] = request.prompt
        case .chat:
            body["messages"] = [["role": "user", "content": request.prompt]]
            body["max_completion_tokens"] = request.expectedOutputLen
        }
        if ignoreEOS { body["ignore_eos"] = true }
        if let temperature { body["temperature"] = temperature }
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
    }

    package func send(_ request: SampleRequest) async -> RequestOutput {
        var output = RequestOutput(promptLen: request.promptLen)
        let clock = ContinuousClock()
        let start = clock.now
        output.startTime = seconds(start - origin)
        var firstText: ContinuousClock.Instant?
        var lastText = start
        var status = 0
        var reason = ""
        var errorBody = Data()
        var parser = SSEParser()

        func handle(_ data: String, at time: ContinuousClock.Instant) throws {
            guard let chunk = try StreamChunk.parse(data) else { return }
            if let message = chunk.error { throw StreamFailure(message: message) }
            if let p = chunk.promptTokens { output.promptLen = p }
            if let c = chunk.completionTokens { output.outputTokens = c }
            guard chunk.hasChoice, !chunk.text.isEmpty else { return }
            if firstText == nil {
                firstText = time
                output.ttft = seconds(time - start)
            } else {
                output.itl.append(seconds(time - lastText))
            }
            lastText = time
            output.generatedText += chunk.text
            output.textChunks += 1
        }

        do {
            try await client.execute(method: .POST, endpoint: endpoint, json: payload(request)) { part in
                switch part {
                case let .head(code, phrase):
                    status = code
                    reason = phrase
                case let .body(bytes):
                    guard status == 200 else {
                        errorBody.append(contentsOf: bytes.readableBytesView)
                        return
                    }
                    let now = clock.now
                    for data in parser.feed(bytes.readableBytesView) { try handle(data, at: now) }
                }
            }
            guard status == 200 else {
                output.error = "HTTP \(status) \(reason): \(Self.errorMessage(errorBody))"
                return output
            }
            let now = clock.now
            for data in parser.finish() { try handle(data, at: now) }
        } catch let failure as StreamFailure {
            output.error = "error event in the stream: \(failure.message)"
            return output
        } catch {
            output.error = "\(error)"
            return output
        }
        guard firstText != nil else {
            output.error = "the stream ended without any text, so there is no time to first token"
            return output
        }
        output.latency = seconds(lastText - start)
        output.success = true
        return output
    }

    /// An `{"error": {...}}` event inside a 200 stream.
    struct StreamFailure: Error {
        var message: String
    }

    /// The `error.message` of an OpenAI-style error body, else the body itself.
    static func errorMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = object["message"] as? String { return message }
        }
        return String(decoding: body.prefix(500), as: UTF8.self)
    }
}

/// A duration in seconds.
func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
