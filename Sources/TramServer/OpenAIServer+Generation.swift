import Foundation
import Hummingbird
import TramEngine
import TramModels
import TramTokenizer

extension OpenAIServer {
    /// One engine output, tagged with the OpenAI choice index it belongs to.
    struct ChoiceOutput: Sendable {
        var choice: Int
        var output: RequestOutput
    }

    /// Submits every prompt and merges their outputs into one stream. Dropping the stream cancels
    /// the tasks that read the engine streams, which aborts every request in the engine.
    func submitAll(_ prompts: [[Int]], _ parameters: SamplingParameters, priority: Int, id: String) throws -> AsyncThrowingStream<ChoiceOutput, any Error> {
        // Reject what can never run before anything is queued.
        for prompt in prompts {
            if prompt.count >= maxModelLen {
                throw ServerError.badRequest(EngineError.promptTooLong(promptTokens: prompt.count, maxModelLength: maxModelLen).description, param: "prompt")
            }
            if let m = parameters.maxTokens, prompt.count + m > maxModelLen {
                throw ServerError.badRequest("This model's maximum context length is \(maxModelLen) tokens. However, you requested \(prompt.count + m) tokens (\(prompt.count) in the messages, \(m) in the completion). Please reduce the length of the messages or completion.", param: "max_tokens")
            }
        }
        let n = parameters.n
        let engine = self.engine
        let (stream, continuation) = AsyncThrowingStream<ChoiceOutput, any Error>.makeStream()
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, prompt) in prompts.enumerated() {
                        let request = EngineRequest(promptTokenIDs: prompt, parameters: parameters, priority: priority)
                        group.addTask {
                            for try await output in engine.submit(request, id: "\(id)-\(i)") {
                                continuation.yield(ChoiceOutput(choice: i * n + output.index, output: output))
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
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The fields every response and chunk starts with (Sendable, unlike a `[String: Any]`).
    struct Header: Sendable {
        var id: String
        var object: String
        var created: Int
        var model: String
        var dictionary: [String: Any] { ["id": id, "object": object, "created": created, "model": model] }
    }

    static func requestID(_ prefix: String) -> String {
        prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    static func stopReason(_ f: Finish?) -> Any {
        switch f?.stopReason {
        case let .string(s)?: s
        case let .tokenID(t)?: t
        case nil: NSNull()
        }
    }

    static func finishReason(_ f: Finish?) -> Any {
        guard let f else { return NSNull() }
        return f.reason == .abort ? "abort" : f.reason.rawValue
    }

    static func jsonBytes(_ object: Any) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func sse(_ object: Any) -> ByteBuffer {
        var b = ByteBuffer(string: "data: ")
        var body = jsonBytes(object)
        b.writeBuffer(&body)
        b.writeString("\n\n")
        return b
    }

    /// Drains a non-streaming request's outputs into per-choice text and finish.
    static func collect(_ outputs: AsyncThrowingStream<ChoiceOutput, any Error>, choices: Int) async throws
        -> (texts: [String], finishes: [Finish?], completionTokens: Int)
    {
        var texts = Array(repeating: "", count: choices)
        var finishes = [Finish?](repeating: nil, count: choices)
        var completionTokens = 0
        do {
            for try await o in outputs {
                texts[o.choice] += o.output.text
                completionTokens += o.output.tokenIDs.count
                if let f = o.output.finish { finishes[o.choice] = f }
            }
        } catch {
            throw mapEngineError(error)
        }
        return (texts, finishes, completionTokens)
    }

    static func usage(prompt: Int, completion: Int) -> [String: Int] {
        ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    /// An error that happens after the stream has started is sent as an event, as vLLM does.
    static func errorEvent(_ error: any Error) -> ByteBuffer {
        sse(["error": ["message": mapEngineError(error).body.message, "type": "InternalServerError", "param": NSNull(), "code": 500]])
    }

    static func finishStream(_ writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    }

    // MARK: - /v1/completions

    func completions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let data = try await self.body(request)
        let body = try decode(CompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try decode(SamplingFields.self, from: data)
        var parameters = try fields.parameters(maxTokens: body.max_tokens ?? 16)
        if body.max_tokens == nil { parameters.maxTokens = 16 }
        do { try parameters.validate(vocabularySize: model.model.vocabularySize) } catch { throw Self.mapEngineError(error) }
        let prompts: [[Int]]
        switch body.prompt {
        case let .texts(texts): prompts = texts.map { model.tokenizer.encode($0) }
        case let .tokens(lists): prompts = lists
        }
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { throw ServerError.badRequest("prompt must not be empty", param: "prompt") }
        let vocab = model.model.vocabularySize
        if prompts.contains(where: { $0.contains { $0 < 0 || $0 >= vocab } }) {
            throw ServerError.badRequest("prompt token ids must be in 0..<\(vocab)", param: "prompt")
        }
        let id = Self.requestID("cmpl")
        let outputs = try submitAll(prompts, parameters, priority: fields.priority ?? 0, id: id)
        let header = Header(id: id, object: "text_completion", created: Int(Date().timeIntervalSince1970), model: modelName)
        let base = header.dictionary
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        let choices = prompts.count * parameters.n

        if body.stream ?? false {
            let includeUsage = body.stream_options?.include_usage ?? false
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                var completionTokens = 0
                do {
                    for try await o in outputs {
                        completionTokens += o.output.tokenIDs.count
                        guard !o.output.text.isEmpty || o.output.finish != nil else { continue }
                        var chunk = header.dictionary
                        chunk["choices"] = [["index": o.choice, "text": o.output.text, "logprobs": NSNull(),
                                             "finish_reason": Self.finishReason(o.output.finish), "stop_reason": Self.stopReason(o.output.finish)]]
                        try await writer.write(Self.sse(chunk))
                    }
                    if includeUsage {
                        var chunk = header.dictionary
                        chunk["choices"] = [Any]()
                        chunk["usage"] = Self.usage(prompt: promptTokens, completion: completionTokens)
                        try await writer.write(Self.sse(chunk))
                    }
                } catch {
                    try await writer.write(Self.errorEvent(error))
                }
                try await Self.finishStream(&writer)
            })
        }

        let (texts, finishes, completionTokens) = try await Self.collect(outputs, choices: choices)
        var response = base
        response["choices"] = (0..<choices).map { i in
            ["index": i, "text": texts[i], "logprobs": NSNull(), "finish_reason": Self.finishReason(finishes[i]), "stop_reason": Self.stopReason(finishes[i])] as [String: Any]
        }
        response["usage"] = Self.usage(prompt: promptTokens, completion: completionTokens)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: Self.jsonBytes(response)))
    }

    // MARK: - /v1/chat/completions

    /// The first chunk of each chat choice carries the role, as OpenAI's does.
    static func roleChunkChoice(_ index: Int) -> [String: Any] {
        let delta: [String: Any] = ["role": "assistant", "content": ""]
        return ["index": index, "delta": delta, "logprobs": NSNull(), "finish_reason": NSNull()]
    }

    static func chatChunkChoice(_ o: ChoiceOutput) -> [String: Any] {
        var delta: [String: Any] = [:]
        if !o.output.text.isEmpty { delta["content"] = o.output.text }
        var choice: [String: Any] = ["index": o.choice, "delta": delta, "logprobs": NSNull(), "finish_reason": finishReason(o.output.finish)]
        if o.output.finish != nil { choice["stop_reason"] = stopReason(o.output.finish) }
        return choice
    }

    func chatCompletions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let data = try await self.body(request)
        let body = try decode(ChatCompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try decode(SamplingFields.self, from: data)
        guard !body.messages.isEmpty else { throw ServerError.badRequest("messages must not be empty", param: "messages") }
        let prompt = model.tokenizer.encode(try renderChat(body.messages, addGenerationPrompt: body.add_generation_prompt ?? true))
        // Chat without max_tokens may use the whole context, as in vLLM.
        var parameters = try fields.parameters(maxTokens: body.max_completion_tokens ?? body.max_tokens)
        do { try parameters.validate(vocabularySize: model.model.vocabularySize) } catch { throw Self.mapEngineError(error) }
        if parameters.maxTokens == nil, prompt.count < maxModelLen { parameters.maxTokens = maxModelLen - prompt.count }
        let id = Self.requestID("chatcmpl")
        let outputs = try submitAll([prompt], parameters, priority: fields.priority ?? 0, id: id)
        let chatHeader = Header(id: id, object: "chat.completion", created: Int(Date().timeIntervalSince1970), model: modelName)
        let base = chatHeader.dictionary
        let choices = parameters.n

        if body.stream ?? false {
            let includeUsage = body.stream_options?.include_usage ?? false
            let header = Header(id: chatHeader.id, object: "chat.completion.chunk", created: chatHeader.created, model: chatHeader.model)
            let promptCount = prompt.count
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                var completionTokens = 0
                do {
                    for i in 0..<choices {
                        var chunk = header.dictionary
                        chunk["choices"] = [Self.roleChunkChoice(i)]
                        try await writer.write(Self.sse(chunk))
                    }
                    for try await o in outputs {
                        completionTokens += o.output.tokenIDs.count
                        guard !o.output.text.isEmpty || o.output.finish != nil else { continue }
                        var chunk = header.dictionary
                        chunk["choices"] = [Self.chatChunkChoice(o)]
                        try await writer.write(Self.sse(chunk))
                    }
                    if includeUsage {
                        var chunk = header.dictionary
                        chunk["choices"] = [Any]()
                        chunk["usage"] = Self.usage(prompt: promptCount, completion: completionTokens)
                        try await writer.write(Self.sse(chunk))
                    }
                } catch {
                    try await writer.write(Self.errorEvent(error))
                }
                try await Self.finishStream(&writer)
            })
        }

        let (texts, finishes, completionTokens) = try await Self.collect(outputs, choices: choices)
        var response = base
        response["choices"] = (0..<choices).map { i in
            ["index": i, "message": ["role": "assistant", "content": texts[i]], "logprobs": NSNull(),
             "finish_reason": Self.finishReason(finishes[i]), "stop_reason": Self.stopReason(finishes[i])] as [String: Any]
        }
        response["usage"] = Self.usage(prompt: prompt.count, completion: completionTokens)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: Self.jsonBytes(response)))
    }
}
