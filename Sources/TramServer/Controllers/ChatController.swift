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
        let input = try self.input.chat(try await body(request), checkModel: checkModel)
        let (text, prompt, parameters) = (input.text, input.prompt, input.parameters)
        let (stream, wantsLogprobs, topK) = (input.stream, input.wantsLogprobs, input.topLogprobs)
        let id = Self.requestID("chatcmpl")
        logRequest(id, prompt: text, tokenIDs: [prompt], parameters)
        let outputs = try submitAll([prompt], parameters, priority: input.priority, grammar: input.grammar, id: id, channel: context.channel)
        let created = Int(Date().timeIntervalSince1970)
        let choices = parameters.n
        let tokenizer = model.tokenizer

        if stream {
            let includeUsage = input.includeUsage
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
