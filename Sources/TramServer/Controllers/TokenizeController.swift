import Foundation
import TramInput
import Hummingbird
import TramTokenizer
import TramModels
import TramTemplate

/// vLLM's `POST /tokenize` (a prompt or chat messages) and `POST /detokenize`.
struct TokenizeController {
    let server: OpenAIServer

    func addRoutes(to routes: inout RouteTable) {
        routes.add(.post, "/tokenize") { request, context in try await server.tokenize(request, context) }
        routes.add(.post, "/detokenize") { request, context in try await server.detokenize(request, context) }
    }
}

extension OpenAIServer {
    func tokenize(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let data = try await self.body(request)
        let body = try InputProcessor.decode(TokenizeRequest.self, from: data)
        try checkModel(body.model)
        let text: String
        if body.messages != nil {
            let raw = try InputProcessor.templateValue(data)
            guard case let .object(root) = raw, let messages = root["messages"] else { throw ServerError.badRequest("give 'prompt' or 'messages'") }
            text = try input.renderChat(messages, addGenerationPrompt: body.add_generation_prompt ?? true,
                                  continueFinalMessage: body.continue_final_message ?? false, variables: try InputProcessor.templateVariables(raw))
        } else if let prompt = body.prompt {
            text = prompt
        } else {
            throw ServerError.badRequest("give 'prompt' or 'messages'")
        }
        let ids = model.tokenizer.encode(text, addSpecialTokens: body.add_special_tokens ?? (body.messages == nil))
        struct Out: Encodable { var count: Int; var max_model_len: Int; var tokens: [Int] }
        return try json(Out(count: ids.count, max_model_len: maxModelLen, tokens: ids))
    }

    func detokenize(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let body = try await decode(DetokenizeRequest.self, request, context)
        try checkModel(body.model)
        let vocab = model.model.vocabularySize
        if let bad = body.tokens.first(where: { $0 < 0 || $0 >= vocab }) {
            throw ServerError.badRequest("token id \(bad) is outside the vocabulary (0..<\(vocab))", param: "tokens")
        }
        return try json(["prompt": model.tokenizer.decode(body.tokens, skipSpecialTokens: false)])
    }
}
