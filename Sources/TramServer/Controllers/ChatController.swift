import Foundation
import Hummingbird
import Logging
import NIOCore
import TramEngine
import TramInput
import TramModels
import TramTemplate
import TramTokenizer
import TramTools

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
        let outputs = try submitAll([prompt], parameters, priority: input.priority, logitsProcessor: self.input.logitsProcessor(input), id: id, channel: context.channel)
        let created = Int(Date().timeIntervalSince1970)
        let choices = parameters.n
        let tokenizer = model.tokenizer
        let tools = input.tools
        let reasoningKind = input.reasoning

        if stream {
            let includeUsage = input.includeUsage
            let header = Header(id: id, object: "chat.completion.chunk", created: created, model: modelName)
            let promptCount = prompt.count
            return Self.eventStream { events in
                var completionTokens = 0
                var cached = CachedTokens()
                // Each choice's tool-call parser, and the ids of the calls it has started.
                var parsers = (0..<choices).map { _ in tools?.makeParser() }
                var reasoners = (0..<choices).map { _ in reasoningKind.map(ReasoningParser.init) }
                var callIDs = [[String]](repeating: [], count: choices)
                // The first chunk of each choice carries the role, as OpenAI's does.
                for i in 0..<choices { try await events.send(ResponseEnvelope(header, choices: [ChatChunkChoice.role(i)])) }
                for try await o in outputs {
                    completionTokens += o.output.tokenIDs.count
                    cached.record(o)
                    var text = o.output.text
                    var reasoning: String?
                    if var reasoner = reasoners[o.choice] {
                        var (r, c) = reasoner.feed(text)
                        if o.output.finish != nil { let rest = reasoner.finish(); r += rest.reasoning; c += rest.content }
                        reasoners[o.choice] = reasoner
                        reasoning = r.isEmpty ? nil : r
                        text = c
                    }
                    var content: String? = text.isEmpty ? nil : text
                    var deltas: [ChatChunkChoice.ToolCallDelta]?
                    if var parser = parsers[o.choice] {
                        var events = parser.feed(text)
                        if o.output.finish != nil { events += parser.finish() }
                        parsers[o.choice] = parser
                        (content, deltas) = Self.chunkParts(events, ids: &callIDs[o.choice])
                    }
                    guard content != nil || deltas != nil || reasoning != nil || o.output.finish != nil || (wantsLogprobs && !o.output.tokenIDs.isEmpty) else { continue }
                    let choice = ChatChunkChoice(
                        index: o.choice, role: nil, content: content,
                        logprobs: wantsLogprobs ? OpenAILogprobs.Chat(o.output.tokenIDs, o.output.logprobs, topK: topK, tokenizer) : nil,
                        finish: o.output.finish, toolCalls: deltas, calledTools: !callIDs[o.choice].isEmpty, reasoning: reasoning)
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
            var content: String? = c.texts[i]
            var reasoning: String??
            if let kind = reasoningKind {
                var reasoner = ReasoningParser(kind)
                let parsed = reasoner.parse(c.texts[i])
                reasoning = .some(parsed.reasoning)
                content = parsed.content
            }
            var calls: [ToolCallObject]?
            if var parser = tools?.makeParser() {
                let parsed = parser.parse(content ?? "")
                content = parsed.content
                calls = parsed.calls.map { ToolCallObject(id: ToolCallObject.newID(), function: .init(name: $0.name, arguments: $0.arguments)) }
            }
            return ChatChoice(index: i, content: content,
                              logprobs: wantsLogprobs ? OpenAILogprobs.Chat(c.tokenIDs[i], c.logprobs[i], topK: topK, tokenizer) : nil,
                              finish: c.finishes[i], toolCalls: calls, reasoning: reasoning)
        }
        let promptLogprobs: OpenAILogprobs.Prompt?? = parameters.promptLogprobs == nil ? nil
            : .some(c.promptLogprobs[0].map { OpenAILogprobs.prompt(prompt, $0, tokenizer) })
        return try Self.jsonResponse(ResponseEnvelope(
            Header(id: id, object: "chat.completion", created: created, model: modelName), choices: chatChoices,
            promptLogprobs: promptLogprobs, usage: Usage(prompt: prompt.count, completion: c.completionTokens, cached: c.cachedTokens.total)))
    }

    /// A stream chunk's content and tool-call deltas from a parser's events; `ids` gets an id
    /// for every call started.
    static func chunkParts(_ events: [ToolCallEvent], ids: inout [String]) -> (String?, [ChatChunkChoice.ToolCallDelta]?) {
        var content = ""
        var deltas: [ChatChunkChoice.ToolCallDelta] = []
        for event in events {
            switch event {
            case .content(let text): content += text
            case .start(let index, let name):
                let id = ToolCallObject.newID()
                ids.append(id)
                deltas.append(.init(index: index, id: id, type: "function", function: .init(name: name, arguments: "")))
            case .arguments(let index, let text):
                if let last = deltas.last, last.index == index, last.function.arguments != nil {
                    deltas[deltas.count - 1].function.arguments! += text
                } else {
                    deltas.append(.init(index: index, id: nil, type: nil, function: .init(name: nil, arguments: text)))
                }
            }
        }
        return (content.isEmpty ? nil : content, deltas.isEmpty ? nil : deltas)
    }
}
