import Foundation
import Hummingbird
import Logging
import NIOCore
import TramEngine
import TramInput
import TramModels
import TramTemplate
import TramTokenizer

/// `POST /v1/chat/completions`: chat completions through the chat template, plain or streamed.
struct ChatController {
    let server: OpenAIServer

    func addRoutes(to routes: inout RouteTable) {
        routes.add(.post, "chat/completions", v1: true) { request, context in try await server.chatCompletions(request, context) }
    }
}

extension OpenAIServer {
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
