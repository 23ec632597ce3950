import Foundation
import Hummingbird
import Logging
import NIOCore
import TramEngine
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
    func submitAll(_ prompts: [[Int]], _ parameters: SamplingParameters, priority: Int, id: String,
                   channel: any Channel) throws -> AsyncThrowingStream<ChoiceOutput, any Error> {
        // Reject what can never run before anything is queued.
        for prompt in prompts {
            if prompt.count >= maxModelLen {
                throw ServerError.badRequest(EngineError.promptTooLong(promptTokens: prompt.count, maxModelLength: maxModelLen).description, param: "prompt")
            }
            if let m = parameters.maxTokens, prompt.count + m > maxModelLen {
                throw ServerError.badRequest("This model's maximum context length is \(maxModelLen) tokens. However, you requested \(prompt.count + m) tokens (\(prompt.count) in the messages, \(m) in the completion). Please reduce the length of the messages or completion.", param: "max_tokens")
            }
        }
        if isDraining { throw ServerError.unavailable("the server is shutting down") }
        let n = parameters.n
        let engine = self.engine
        var streams: [AsyncThrowingStream<RequestOutput, any Error>] = []
        do {
            for (i, prompt) in prompts.enumerated() {
                let request = EngineRequest(promptTokenIDs: prompt, parameters: parameters, priority: priority)
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
        continuation.onTermination = { _ in task.cancel() }
        channel.closeFuture.whenComplete { _ in
            continuation.finish(throwing: CancellationError())
            task.cancel()
        }
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

    /// Fields that ask for what Tram does not do yet get a 400 naming them instead of being
    /// ignored: `response_format` other than text (structured outputs) and tools the model
    /// would be expected to call (`tool_choice` other than none). `stream_options` only goes
    /// with streaming, as in vLLM.
    static func refuseUnsupported(stream: Bool, streamOptions: StreamOptions?, responseFormat: ResponseFormat?,
                                  tools: [IgnoredValue]?, toolChoice: ToolChoice?) throws {
        if streamOptions != nil, !stream {
            throw ServerError.badRequest("Stream options can only be defined when `stream=True`.", param: "stream_options")
        }
        if let format = responseFormat, format.type != "text" {
            throw ServerError.badRequest("response_format of type '\(format.type)' is not supported yet; only 'text' is", param: "response_format")
        }
        if let tools, !tools.isEmpty, toolChoice != .noCall {
            throw ServerError.badRequest(
                "tool calling is not supported yet: with tools, tool_choice must be \"none\" (the tools then only reach the chat template)",
                param: "tool_choice")
        }
    }

    // MARK: - /v1/completions

    func completions(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let data = try await self.body(request)
        let body = try decode(CompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try decode(SamplingFields.self, from: data)
        // Omitted max_tokens means 16 for completions, as in vLLM and OpenAI.
        var parameters = try fields.parameters(maxTokens: body.max_tokens ?? 16, defaults: generationDefaults)
        let stream = body.stream ?? false
        try Self.refuseUnsupported(stream: stream, streamOptions: body.stream_options, responseFormat: body.response_format, tools: nil, toolChoice: nil)
        let echo = body.echo ?? false
        parameters.logprobs = body.logprobs
        if stream, parameters.promptLogprobs != nil {
            throw ServerError.badRequest("prompt_logprobs is not available when stream is enabled", param: "prompt_logprobs")
        }
        let userPromptLogprobs = parameters.promptLogprobs
        // Echoing the prompt with logprobs needs the prompt's logprobs too.
        if echo, let k = body.logprobs { parameters.promptLogprobs = max(parameters.promptLogprobs ?? 0, k) }
        do {
            try parameters.validate(vocabularySize: model.model.vocabularySize)
            try limits.check(parameters, vocabularySize: model.model.vocabularySize)
            try limits.check(promptCount: body.prompt.count, n: parameters.n)
        } catch { throw Self.mapEngineError(error) }
        let tokenizer = model.tokenizer
        let prompts: [[Int]]
        var promptTexts: [String]
        switch body.prompt {
        case let .texts(texts):
            prompts = texts.map { tokenizer.encode($0) }
            promptTexts = texts
        case let .tokens(lists):
            prompts = lists
            promptTexts = []
        }
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { throw ServerError.badRequest("prompt must not be empty", param: "prompt") }
        let vocab = model.model.vocabularySize
        if prompts.contains(where: { $0.contains { $0 < 0 || $0 >= vocab } }) {
            throw ServerError.badRequest("prompt token ids must be in 0..<\(vocab)", param: "prompt")
        }
        do { try limits.check(totalPromptTokens: prompts.reduce(0) { $0 + $1.count }) } catch { throw Self.mapEngineError(error) }
        if promptTexts.isEmpty, echo { promptTexts = prompts.map { tokenizer.decode($0) } }
        let id = Self.requestID("cmpl")
        logRequest(id, prompt: promptTexts.count == 1 ? promptTexts[0] : nil, tokenIDs: prompts, parameters)
        let outputs = try submitAll(prompts, parameters, priority: fields.priority ?? 0, id: id, channel: context.channel)
        let header = Header(id: id, object: "text_completion", created: Int(Date().timeIntervalSince1970), model: modelName)
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        let n = parameters.n
        let choices = prompts.count * n
        let wantsLogprobs = body.logprobs != nil

        if stream {
            let includeUsage = body.stream_options?.include_usage ?? false
            let echoTexts = echo ? promptTexts : []
            return Self.eventStream { events in
                var completionTokens = 0
                var logprobs = (0..<choices).map { _ in OpenAILogprobs.Completion() }
                // With echo, a choice's first chunk carries its prompt; when logprobs are asked
                // for too, that waits for the prompt's logprobs (sent with sample 0's first output).
                var echoed = [Bool](repeating: !echo, count: choices)
                var promptLogprobs: [Int: [TokenLogprobs?]] = [:]
                var held: [Int: [ChoiceOutput]] = [:]
                var cached = CachedTokens()
                func chunk(_ o: ChoiceOutput, prefix: String, prefixLogprobs: [TokenLogprobs?]?) -> ResponseEnvelope<CompletionChoice>? {
                    let text = prefix + o.output.text
                    guard !text.isEmpty || o.output.finish != nil || (wantsLogprobs && !o.output.tokenIDs.isEmpty) else { return nil }
                    var lp: OpenAILogprobs.Completion?
                    if wantsLogprobs {
                        var part = OpenAILogprobs.Completion(offset: logprobs[o.choice].offset)
                        if let prefixLogprobs {
                            for (token, entry) in zip(prompts[o.prompt], prefixLogprobs) { part.append(token, entry, tokenizer) }
                        }
                        for (token, entry) in zip(o.output.tokenIDs, o.output.logprobs) { part.append(token, entry, tokenizer) }
                        logprobs[o.choice].offset = part.offset
                        lp = part
                    }
                    return ResponseEnvelope(header, choices: [CompletionChoice(index: o.choice, text: text, logprobs: lp, finish: o.output.finish)])
                }
                for try await o in outputs {
                    completionTokens += o.output.tokenIDs.count
                    cached.record(o)
                    if let p = o.output.promptLogprobs { promptLogprobs[o.prompt] = p }
                    var ready = [o]
                    if !echoed[o.choice] {
                        if wantsLogprobs, promptLogprobs[o.prompt] == nil {
                            held[o.prompt, default: []].append(o)
                            continue
                        }
                        ready = (held.removeValue(forKey: o.prompt) ?? []) + [o]
                    }
                    for r in ready {
                        var prefix = ""
                        var prefixLogprobs: [TokenLogprobs?]?
                        if !echoed[r.choice] {
                            echoed[r.choice] = true
                            prefix = echoTexts[r.prompt]
                            prefixLogprobs = wantsLogprobs ? promptLogprobs[r.prompt] : nil
                        }
                        if let event = chunk(r, prefix: prefix, prefixLogprobs: prefixLogprobs) { try await events.send(event) }
                    }
                }
                if includeUsage {
                    try await events.send(ResponseEnvelope<CompletionChoice>(
                        header, choices: [], usage: Usage(prompt: promptTokens, completion: completionTokens, cached: cached.total)))
                }
            }
        }

        let c = try await Self.collect(outputs, choices: choices)
        let completionChoices = (0..<choices).map { i in
            let p = i / n
            var choice = CompletionChoice(index: i, text: (echo ? promptTexts[p] : "") + c.texts[i], logprobs: nil, finish: c.finishes[i])
            if wantsLogprobs {
                var lp = OpenAILogprobs.Completion()
                if echo, let entries = c.promptLogprobs[p] {
                    for (token, entry) in zip(prompts[p], entries) { lp.append(token, entry, tokenizer) }
                }
                for (token, entry) in zip(c.tokenIDs[i], c.logprobs[i]) { lp.append(token, entry, tokenizer) }
                choice.logprobs = lp
            }
            if userPromptLogprobs != nil {
                choice.promptLogprobs = .some(c.promptLogprobs[p].map { OpenAILogprobs.prompt(prompts[p], $0, tokenizer) })
            }
            return choice
        }
        return try Self.jsonResponse(ResponseEnvelope(header, choices: completionChoices,
                                                      usage: Usage(prompt: promptTokens, completion: c.completionTokens, cached: c.cachedTokens.total)))
    }

    // MARK: - /v1/chat/completions

    func chatCompletions(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let data = try await self.body(request)
        let body = try decode(ChatCompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try decode(SamplingFields.self, from: data)
        try Self.refuseUnsupported(stream: body.stream ?? false, streamOptions: body.stream_options, responseFormat: body.response_format,
                                   tools: body.tools, toolChoice: body.tool_choice)
        guard !body.messages.isEmpty else { throw ServerError.badRequest("messages must not be empty", param: "messages") }
        let raw = try Self.templateValue(data)
        guard case let .object(root) = raw, let messages = root["messages"] else { throw ServerError.badRequest("missing field 'messages'", param: "messages") }
        let continueFinal = body.continue_final_message ?? false
        let text = try renderChat(messages, addGenerationPrompt: body.add_generation_prompt ?? !continueFinal,
                                  continueFinalMessage: continueFinal, variables: try Self.templateVariables(raw))
        // The template already wrote the special tokens (BOS and the like), as vLLM encodes chat.
        let prompt = model.tokenizer.encode(text, addSpecialTokens: body.add_special_tokens ?? false)
        guard !prompt.isEmpty else { throw ServerError.badRequest("the rendered conversation is empty", param: "messages") }
        // Chat without max_tokens may use the whole context, as in vLLM.
        var parameters = try fields.parameters(maxTokens: body.max_completion_tokens ?? body.max_tokens, defaults: generationDefaults)
        let stream = body.stream ?? false
        let wantsLogprobs = body.logprobs ?? false
        let topK = body.top_logprobs ?? 0
        if body.top_logprobs != nil, !wantsLogprobs {
            throw ServerError.badRequest("when using `top_logprobs`, `logprobs` must be set to true.", param: "top_logprobs")
        }
        if wantsLogprobs { parameters.logprobs = topK }
        if stream, parameters.promptLogprobs != nil {
            throw ServerError.badRequest("prompt_logprobs is not available when stream is enabled", param: "prompt_logprobs")
        }
        do {
            try parameters.validate(vocabularySize: model.model.vocabularySize)
            try limits.check(parameters, vocabularySize: model.model.vocabularySize, logprobsField: "top_logprobs")
            try limits.check(promptCount: 1, n: parameters.n)
        } catch { throw Self.mapEngineError(error) }
        if parameters.maxTokens == nil, prompt.count < maxModelLen { parameters.maxTokens = maxModelLen - prompt.count }
        let id = Self.requestID("chatcmpl")
        logRequest(id, prompt: text, tokenIDs: [prompt], parameters)
        let outputs = try submitAll([prompt], parameters, priority: fields.priority ?? 0, id: id, channel: context.channel)
        let created = Int(Date().timeIntervalSince1970)
        let choices = parameters.n
        let tokenizer = model.tokenizer

        if stream {
            let includeUsage = body.stream_options?.include_usage ?? false
            let header = Header(id: id, object: "chat.completion.chunk", created: created, model: modelName)
            let promptCount = prompt.count
            return Self.eventStream { events in
                var completionTokens = 0
                var cached = CachedTokens()
                // The first chunk of each choice carries the role, as OpenAI's does.
                for i in 0..<choices { try await events.send(ResponseEnvelope(header, choices: [ChatChunkChoice.role(i)])) }
                for try await o in outputs {
                    completionTokens += o.output.tokenIDs.count
                    cached.record(o)
                    guard !o.output.text.isEmpty || o.output.finish != nil || (wantsLogprobs && !o.output.tokenIDs.isEmpty) else { continue }
                    let choice = ChatChunkChoice(
                        index: o.choice, role: nil, content: o.output.text.isEmpty ? nil : o.output.text,
                        logprobs: wantsLogprobs ? OpenAILogprobs.Chat(o.output.tokenIDs, o.output.logprobs, topK: topK, tokenizer) : nil,
                        finish: o.output.finish)
                    try await events.send(ResponseEnvelope(header, choices: [choice]))
                }
                if includeUsage {
                    try await events.send(ResponseEnvelope<ChatChunkChoice>(
                        header, choices: [], usage: Usage(prompt: promptCount, completion: completionTokens, cached: cached.total)))
                }
            }
        }

        let c = try await Self.collect(outputs, choices: choices)
        let chatChoices = (0..<choices).map { i in
            ChatChoice(index: i, content: c.texts[i],
                       logprobs: wantsLogprobs ? OpenAILogprobs.Chat(c.tokenIDs[i], c.logprobs[i], topK: topK, tokenizer) : nil,
                       finish: c.finishes[i])
        }
        let promptLogprobs: OpenAILogprobs.Prompt?? = parameters.promptLogprobs == nil ? nil
            : .some(c.promptLogprobs[0].map { OpenAILogprobs.prompt(prompt, $0, tokenizer) })
        return try Self.jsonResponse(ResponseEnvelope(
            Header(id: id, object: "chat.completion", created: created, model: modelName), choices: chatChoices,
            promptLogprobs: promptLogprobs, usage: Usage(prompt: prompt.count, completion: c.completionTokens, cached: c.cachedTokens.total)))
    }
}
