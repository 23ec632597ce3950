package import Foundation
package import TramChat
package import TramEngine
package import TramGrammar
import TramJSON
package import TramModels
package import TramTemplate
package import TramTokenizer
package import TramTools

/// The input processor (vLLM's `InputProcessor`/renderer idea): the one place that turns an
/// OpenAI/vLLM request body into what the engine runs — decoding with errors that name their
/// field, sampling defaults (`--generation-config`), fields refused until they are implemented,
/// chat-template rendering, tokenization, range checks, `RequestLimits`, and the context length.
/// It does no I/O and knows nothing of HTTP; every refusal is an `InputError` (a 400 there).
///
/// Structured outputs (`response_format`, `structured_outputs`) become a compiled grammar carried
/// by `Completion`/`Chat`/batch lines, whose matcher the sampler applies as a logits processor
/// (`StructuredOutputs/`). `refuseUnsupported` is where `tools` will become a response parser.
package struct InputProcessor: Sendable {
    package let tokenizer: Tokenizer
    package let chatTemplate: Result<ChatTemplate, ChatTemplateError>
    package let vocabularySize: Int
    package let maxModelLen: Int
    package let limits: RequestLimits
    /// Sampling defaults applied to fields a request leaves out.
    package let defaults: GenerationDefaults
    /// Compiled grammars of structured-output requests, shared by every copy of the processor.
    package let grammars: GrammarCompilerCache
    /// `--enable-auto-tool-choice`, `--tool-call-parser`.
    package let toolCalling: ToolCallingOptions
    /// `--reasoning-parser`.
    package let reasoning: ReasoningParser.Kind?

    /// - Parameter eosTokenIDs: the model's end-of-sequence ids (a grammar allows them where the
    ///   output can end).
    package init(tokenizer: Tokenizer, chatTemplate: Result<ChatTemplate, ChatTemplateError>, vocabularySize: Int, maxModelLen: Int,
                 limits: RequestLimits, defaults: GenerationDefaults, eosTokenIDs: Set<Int>,
                 toolCalling: ToolCallingOptions = ToolCallingOptions(), reasoning: ReasoningParser.Kind? = nil) {
        self.tokenizer = tokenizer
        self.toolCalling = toolCalling
        self.reasoning = reasoning
        grammars = GrammarCompilerCache(tokenizer: tokenizer, logitsWidth: vocabularySize, stopTokens: eosTokenIDs)
        self.chatTemplate = chatTemplate
        self.vocabularySize = vocabularySize
        self.maxModelLen = maxModelLen
        self.limits = limits
        self.defaults = defaults
    }

    /// A `/v1/completions` body, validated: every prompt tokenized and within the context.
    package struct Completion: Sendable {
        package var model: String?
        package var prompts: [[Int]]
        /// The prompts as text: as given, or decoded from token ids when echoed; else empty.
        package var promptTexts: [String]
        package var parameters: SamplingParameters
        /// `prompt_logprobs` as the client asked (echo with logprobs computes them too).
        package var userPromptLogprobs: Int?
        package var echo: Bool
        package var stream: Bool
        package var includeUsage: Bool
        /// `logprobs` was given.
        package var wantsLogprobs: Bool
        package var priority: Int
        /// The structured output's grammar, when the body asks for one.
        package var grammar: CompiledGrammar?
    }

    /// A `/v1/chat/completions` body, validated: the conversation rendered and tokenized.
    package struct Chat: Sendable {
        package var model: String?
        package var text: String
        package var prompt: [Int]
        package var parameters: SamplingParameters
        package var stream: Bool
        package var includeUsage: Bool
        package var wantsLogprobs: Bool
        package var topLogprobs: Int
        package var priority: Int
        package var grammar: CompiledGrammar?
        /// Tool calling: how to read calls out of each choice's text (nil: no tools offered,
        /// or `tool_choice: "none"`).
        package var tools: ToolRequest?
        /// How to split thinking from the answer (`--reasoning-parser`); a grammar then applies
        /// to the answer only.
        package var reasoning: ReasoningParser.Kind?
    }

    /// - Parameter checkModel: called with the body's `model` once it is decoded, so an unknown
    ///   model is refused before anything else.
    package func completion(_ data: Data, checkModel: (String?) throws -> Void) throws -> Completion {
        let body = try Self.decode(CompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try Self.decode(SamplingFields.self, from: data)
        // Omitted max_tokens means 16 for completions, as in vLLM and OpenAI.
        var parameters = try engine { try fields.parameters(maxTokens: body.max_tokens ?? 16, defaults: defaults) }
        let stream = body.stream ?? false
        try Self.refuseUnsupported(stream: stream, streamOptions: body.stream_options)
        let grammar = try structuredOutput(Self.jsonBody(data), parameters)
        let echo = body.echo ?? false
        parameters.logprobs = body.logprobs
        if stream, parameters.promptLogprobs != nil {
            throw InputError("prompt_logprobs is not available when stream is enabled", param: "prompt_logprobs")
        }
        let userPromptLogprobs = parameters.promptLogprobs
        // Echoing the prompt with logprobs needs the prompt's logprobs too.
        if echo, let k = body.logprobs { parameters.promptLogprobs = max(parameters.promptLogprobs ?? 0, k) }
        try engine {
            try parameters.validate(vocabularySize: vocabularySize)
            try limits.check(parameters, vocabularySize: vocabularySize)
            try limits.check(promptCount: body.prompt.count, n: parameters.n)
        }
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
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { throw InputError("prompt must not be empty", param: "prompt") }
        if prompts.contains(where: { $0.contains { $0 < 0 || $0 >= vocabularySize } }) {
            throw InputError("prompt token ids must be in 0..<\(vocabularySize)", param: "prompt")
        }
        try engine { try limits.check(totalPromptTokens: prompts.reduce(0) { $0 + $1.count }) }
        for prompt in prompts { try checkContext(prompt, maxTokens: parameters.maxTokens) }
        if promptTexts.isEmpty, echo { promptTexts = prompts.map { tokenizer.decode($0) } }
        return Completion(model: body.model, prompts: prompts, promptTexts: promptTexts, parameters: parameters,
                          userPromptLogprobs: userPromptLogprobs, echo: echo, stream: stream,
                          includeUsage: body.stream_options?.include_usage ?? false, wantsLogprobs: body.logprobs != nil,
                          priority: fields.priority ?? 0, grammar: grammar)
    }

    /// - Parameter checkModel: as for `completion`.
    package func chat(_ data: Data, checkModel: (String?) throws -> Void) throws -> Chat {
        let body = try Self.decode(ChatCompletionRequest.self, from: data)
        try checkModel(body.model)
        let fields = try Self.decode(SamplingFields.self, from: data)
        try Self.refuseUnsupported(stream: body.stream ?? false, streamOptions: body.stream_options)
        let json = try Self.jsonBody(data)
        let tools = try ToolRequest.parse(body: json, options: toolCalling)
        guard !body.messages.isEmpty else { throw InputError("messages must not be empty", param: "messages") }
        let raw = try Self.templateValue(data)
        guard case let .object(root) = raw, let messages = root["messages"] else { throw InputError("missing field 'messages'", param: "messages") }
        let continueFinal = body.continue_final_message ?? false
        let text = try renderChat(messages, addGenerationPrompt: body.add_generation_prompt ?? !continueFinal,
                                  continueFinalMessage: continueFinal, variables: try Self.templateVariables(raw))
        // The template already wrote the special tokens (BOS and the like), as vLLM encodes chat.
        let prompt = tokenizer.encode(text, addSpecialTokens: body.add_special_tokens ?? false)
        guard !prompt.isEmpty else { throw InputError("the rendered conversation is empty", param: "messages") }
        // Chat without max_tokens may use the whole context, as in vLLM.
        var parameters = try engine { try fields.parameters(maxTokens: body.max_completion_tokens ?? body.max_tokens, defaults: defaults) }
        let stream = body.stream ?? false
        let wantsLogprobs = body.logprobs ?? false
        let topK = body.top_logprobs ?? 0
        if body.top_logprobs != nil, !wantsLogprobs {
            throw InputError("when using `top_logprobs`, `logprobs` must be set to true.", param: "top_logprobs")
        }
        if wantsLogprobs { parameters.logprobs = topK }
        if case .auto(let parser)? = tools?.choice, ToolCallParsers.readsSpecialTokens(parser), fields.skip_special_tokens == nil {
            parameters.skipSpecialTokens = false
        }
        if stream, parameters.promptLogprobs != nil {
            throw InputError("prompt_logprobs is not available when stream is enabled", param: "prompt_logprobs")
        }
        try engine {
            try parameters.validate(vocabularySize: vocabularySize)
            try limits.check(parameters, vocabularySize: vocabularySize, logprobsField: "top_logprobs")
            try limits.check(promptCount: 1, n: parameters.n)
        }
        if parameters.maxTokens == nil, prompt.count < maxModelLen { parameters.maxTokens = maxModelLen - prompt.count }
        try checkContext(prompt, maxTokens: parameters.maxTokens)
        var grammar = try structuredOutput(json, parameters)
        if let forced = tools?.constraint {
            if grammar != nil {
                throw InputError("tool_choice \"required\" or a named function cannot be combined with response_format or structured_outputs", param: "tool_choice")
            }
            grammar = try grammars.grammar(for: forced)
        }
        return Chat(model: body.model, text: text, prompt: prompt, parameters: parameters, stream: stream,
                    includeUsage: body.stream_options?.include_usage ?? false, wantsLogprobs: wantsLogprobs, topLogprobs: topK,
                    priority: fields.priority ?? 0, grammar: grammar, tools: tools, reasoning: reasoning)
    }

    /// A `tram generate --input` line (vLLM's offline request: `prompt`, `prompt_token_ids` or
    /// `messages`, and sampling fields), judged as the server judges a body: fields missing from
    /// the line come from `base` (the command line's flags). Returns the engine request and the
    /// prompt text (nil for token ids).
    package func batchLine(_ data: Data, base: SamplingParameters) throws -> (request: EngineRequest, prompt: String?) {
        let line = try Self.decode(BatchLine.self, from: data)
        let text: String?
        let ids: [Int]
        if line.messages != nil {
            let raw = try Self.templateValue(data)
            guard case let .object(root) = raw, let messages = root["messages"] else { throw InputError("missing field 'messages'", param: "messages") }
            let rendered = try renderChat(messages, addGenerationPrompt: true)
            text = rendered
            ids = tokenizer.encode(rendered, addSpecialTokens: false)
        } else if let p = line.prompt {
            switch p {
            case let .texts(texts) where texts.count == 1:
                text = texts[0]
                ids = tokenizer.encode(texts[0])
            case let .tokens(lists) where lists.count == 1:
                text = nil
                ids = lists[0]
            default:
                throw InputError("a line holds one prompt, got \(p.count); give each its own line", param: "prompt")
            }
        } else if let t = line.prompt_token_ids {
            text = nil
            ids = t
        } else {
            throw InputError("needs \"prompt\", \"prompt_token_ids\" or \"messages\"", param: "prompt")
        }
        guard !ids.isEmpty else { throw InputError("prompt must not be empty", param: "prompt") }
        if ids.contains(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw InputError("prompt token ids must be in 0..<\(vocabularySize)", param: "prompt")
        }
        let parameters = try engine { () throws(EngineError) -> SamplingParameters in
            let p = try line.parameters(defaults: base)
            try p.validate(vocabularySize: vocabularySize)
            try limits.check(p, vocabularySize: vocabularySize)
            return p
        }
        try checkContext(ids, maxTokens: parameters.maxTokens)
        let grammar = try structuredOutput(Self.jsonBody(data), parameters)
        return (EngineRequest(promptTokenIDs: ids, parameters: parameters, priority: line.priority ?? 0,
                              makeLogitsProcessor: Self.logitsProcessor(grammar)), text)
    }

    /// The chat template of `source` (a model's or `--chat-template`'s), for `chatTemplate`.
    package static func chatTemplate(source: String?, tokenizer: Tokenizer) -> Result<ChatTemplate, ChatTemplateError> {
        Result { () throws(ChatTemplateError) in
            guard let source else { throw .missing }
            return try ChatTemplate(source: source, bosToken: tokenizer.bosTokenID.flatMap { tokenizer.token(for: $0) },
                                    eosToken: tokenizer.eosTokenID.flatMap { tokenizer.token(for: $0) })
        }
    }

    /// A prompt that can never run is refused before anything is queued, with vLLM's messages.
    func checkContext(_ prompt: [Int], maxTokens: Int?) throws {
        if prompt.count >= maxModelLen {
            throw InputError(EngineError.promptTooLong(promptTokens: prompt.count, maxModelLength: maxModelLen).description, param: "prompt")
        }
        if let m = maxTokens, prompt.count + m > maxModelLen {
            throw InputError("This model's maximum context length is \(maxModelLen) tokens. However, you requested \(prompt.count + m) tokens (\(prompt.count) in the messages, \(m) in the completion). Please reduce the length of the messages or completion.", param: "max_tokens")
        }
    }

    /// Runs engine-level checks, turning their refusals into `InputError`s.
    private func engine<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as EngineError { throw InputError(error) }
    }

    /// Decodes a body, naming the field of every decoding error (OpenAI's `param`).
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw InputError("missing field '\(key.stringValue)'", param: key.stringValue)
        } catch let DecodingError.typeMismatch(_, c) {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw InputError("wrong type for '\(path)': \(c.debugDescription)", param: path)
        } catch let DecodingError.valueNotFound(_, c) {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw InputError("'\(path)' must not be null", param: path)
        } catch let DecodingError.dataCorrupted(c) where !c.codingPath.isEmpty {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw InputError("invalid '\(path)': \(c.debugDescription)", param: path)
        } catch {
            if let field = Self.fieldThatDoesNotFit(T.self, in: data) {
                throw InputError("'\(field.name)' must be an integer that fits in 64 bits, got \(field.value)", param: field.name)
            }
            throw InputError("the body is not valid JSON")
        }
    }

    /// For a body that is valid JSON but failed to decode without a coding path: the top-level
    /// field holding a number its type cannot take (`"n": 8.5`, `"seed": 18446744073709551615`),
    /// which Foundation's decoder reports as "not valid JSON". Found by replacing one field at
    /// a time with null and seeing the error change; only tried on small objects, so a crafted
    /// body cannot make the error path expensive.
    static func fieldThatDoesNotFit<T: Decodable>(_ type: T.Type, in data: Data) -> (name: String, value: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object.count <= 64 else { return nil }
        for (key, value) in object where value is NSNumber && !(value is Bool) {
            var changed = object
            changed[key] = NSNull()
            guard let body = try? JSONSerialization.data(withJSONObject: changed) else { continue }
            do {
                _ = try JSONDecoder().decode(T.self, from: body)
            } catch let DecodingError.dataCorrupted(c) where c.codingPath.isEmpty {
                continue
            } catch {}
            return (key, "\(value)")
        }
        return nil
    }

    /// The chat prompt for `messages` (the raw JSON values, so every field reaches the template).
    package func renderChat(
        _ messages: Value, addGenerationPrompt: Bool, continueFinalMessage: Bool = false, variables: [String: Value] = [:]
    ) throws -> String {
        if addGenerationPrompt && continueFinalMessage {
            throw InputError("Cannot set both `continue_final_message` and `add_generation_prompt` to True.", param: "continue_final_message")
        }
        let template: ChatTemplate
        switch chatTemplate {
        case let .success(t): template = t
        case let .failure(error): throw InputError("\(error.description); pass one with --chat-template", param: "messages")
        }
        do {
            return try template.render(conversation: Self.normalizedMessages(messages), addGenerationPrompt: addGenerationPrompt,
                                       continueFinalMessage: continueFinalMessage, variables: variables)
        } catch {
            throw InputError(error.description, param: "messages")
        }
    }

    /// Messages as templates expect them: a content given as a list of parts becomes the text
    /// of its text parts joined by newlines (vLLM's "string" content format).
    /// An assistant message's `tool_calls[].function.arguments`, a JSON string in OpenAI's API,
    /// reach the template as the object it encodes (templates write `arguments | tojson`), as
    /// vLLM passes them.
    package static func normalizedMessages(_ messages: Value) -> Value {
        guard case let .array(list) = messages else { return messages }
        return .array(list.map { message in
            guard case var .object(fields) = message else { return message }
            if case let .array(calls)? = fields["tool_calls"] {
                fields["tool_calls"] = .array(calls.map { call in
                    guard case var .object(c) = call, case var .object(function)? = c["function"],
                          case let .string(arguments)? = function["arguments"], let parsed = try? Value(json: arguments) else { return call }
                    function["arguments"] = parsed
                    c["function"] = .object(function)
                    return .object(c)
                })
            }
            guard case let .array(parts)? = fields["content"] else { return .object(fields) }
            let texts = parts.compactMap { part -> String? in
                guard case let .object(p) = part, p["type"] == .string("text"), case let .string(text)? = p["text"] else { return nil }
                return text
            }
            fields["content"] = .string(texts.joined(separator: "\n"))
            return .object(fields)
        })
    }

    /// The template variables a chat request brings: `tools`, then `chat_template_kwargs`.
    package static func templateVariables(_ body: Value) throws -> [String: Value] {
        guard case let .object(root) = body else { return [:] }
        var variables: [String: Value] = [:]
        if let tools = root["tools"], tools != Value.none { variables["tools"] = tools }
        switch root["chat_template_kwargs"] {
        case nil, Value.none?: break
        case let .object(kwargs)?:
            for (key, value) in kwargs.pairs { variables[key] = value }
        default:
            throw InputError("chat_template_kwargs must be an object", param: "chat_template_kwargs")
        }
        return variables
    }

    /// The body as template values, key order kept (as Python's json keeps it).
    package static func templateValue(_ data: Data) throws -> Value {
        do { return try Value(json: data) } catch { throw InputError("the body is not valid JSON") }
    }

    /// The compiled grammar of the body's `response_format` / `structured_outputs`, or nil when
    /// it asks for none. A constraint needs the end-of-sequence token to end the output, so
    /// `ignore_eos` is refused with one.
    func structuredOutput(_ body: JSONValue, _ parameters: SamplingParameters) throws -> CompiledGrammar? {
        guard let request = try StructuredOutputRequest.parse(body: body) else { return nil }
        if parameters.ignoreEOS {
            throw InputError("ignore_eos cannot be combined with structured outputs (the output ends with the end-of-sequence token)", param: "ignore_eos")
        }
        return try grammars.grammar(for: request)
    }

    static func jsonBody(_ data: Data) throws -> JSONValue {
        do { return try JSONParser.parse(Array(data)) } catch { throw InputError("the body is not valid JSON") }
    }

    /// The engine's per-sample logits processor of a chat: its grammar, applied after the
    /// reasoning when there is a reasoning parser.
    package func logitsProcessor(_ chat: Chat) -> (@Sendable () -> any LogitsProcessor)? {
        guard let grammar = chat.grammar else { return nil }
        guard let kind = chat.reasoning else { return Self.logitsProcessor(grammar) }
        let tokenizer = self.tokenizer
        let think = tokenizer.tokenID(for: "<think>")
        return { ReasoningGatedLogitsProcessor(grammar: grammar, reasoning: kind, thinkToken: think) { tokenizer.decode([$0]) } }
    }

    /// The engine's per-sample logits processor for `grammar`.
    package static func logitsProcessor(_ grammar: CompiledGrammar?) -> (@Sendable () -> any LogitsProcessor)? {
        guard let grammar else { return nil }
        return { GrammarLogitsProcessor(grammar: grammar) }
    }

    /// `stream_options` only goes with streaming, as in vLLM.
    static func refuseUnsupported(stream: Bool, streamOptions: StreamOptions?) throws {
        if streamOptions != nil, !stream {
            throw InputError("Stream options can only be defined when `stream=True`.", param: "stream_options")
        }
    }
}
