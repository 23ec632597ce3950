import Foundation
import Hummingbird
import Logging
import NIOCore
import TramEngine
import TramInput
import TramModels
import TramTemplate
import TramTokenizer

/// `POST /v1/completions`: text completions, plain or streamed, with echo and logprobs.
struct CompletionsController {
    let server: OpenAIServer

    func addRoutes(to routes: inout RouteTable) {
        routes.add(.post, "completions", v1: true) { request, context in try await server.completions(request, context) }
    }
}

extension OpenAIServer {
    func completions(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let input = try self.input.completion(try await body(request), checkModel: checkModel)
        let (prompts, promptTexts, parameters) = (input.prompts, input.promptTexts, input.parameters)
        let (echo, stream, wantsLogprobs, userPromptLogprobs) = (input.echo, input.stream, input.wantsLogprobs, input.userPromptLogprobs)
        let tokenizer = model.tokenizer
        let id = Self.requestID("cmpl")
        logRequest(id, prompt: promptTexts.count == 1 ? promptTexts[0] : nil, tokenIDs: prompts, parameters)
        let outputs = try submitAll(prompts, parameters, priority: input.priority, logitsProcessor: InputProcessor.logitsProcessor(input.grammar), id: id, channel: context.channel)
        let header = Header(id: id, object: "text_completion", created: Int(Date().timeIntervalSince1970), model: modelName)
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        let n = parameters.n
        let choices = prompts.count * n

        if stream {
            let includeUsage = input.includeUsage
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
}
