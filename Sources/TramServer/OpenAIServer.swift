import Foundation
public import Hummingbird
public import Logging
import TramChat
public import TramEngine
public import TramModels
import TramTokenizer

/// Settings of `tram serve`, with vLLM's flag names.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Names clients may ask for; the first is reported in responses (`--served-model-name`).
    public var servedModelNames: [String]
    /// Accepted bearer tokens for `/v1/*`; empty means no authentication (`--api-key`).
    public var apiKeys: [String]
    /// Largest request body accepted, in bytes.
    public var maxRequestBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8000, servedModelNames: [String], apiKeys: [String] = [], maxRequestBytes: Int = 16 << 20) {
        self.host = host
        self.port = port
        self.servedModelNames = servedModelNames
        self.apiKeys = apiKeys
        self.maxRequestBytes = maxRequestBytes
    }
}

/// The OpenAI-compatible HTTP surface over an engine: completions and chat completions (JSON or
/// server-sent events), models, health, tokenize/detokenize, version, and Prometheus metrics.
///
/// A handler validates and tokenizes, then submits to the engine and relays its outputs. When
/// the client goes away the handler's task is cancelled, its stream is dropped, and the engine
/// aborts the request at the next step boundary, freeing its KV blocks.
public final class OpenAIServer: Sendable {
    public let model: LoadedModel
    public let engine: EngineLoop<EngineCore>
    public let configuration: ServerConfiguration
    public let maxModelLen: Int
    /// Served at `GET /metrics` when given; the engine loop's `onStep` must feed it.
    public let metrics: EngineMetrics?
    let chatTemplate: ChatTemplate?
    let created = Int(Date().timeIntervalSince1970)

    public init(model: LoadedModel, engine: EngineLoop<EngineCore>, maxModelLen: Int, configuration: ServerConfiguration,
                metrics: EngineMetrics? = nil) {
        self.model = model
        self.metrics = metrics
        self.engine = engine
        self.maxModelLen = maxModelLen
        self.configuration = configuration
        let tokenizer = model.tokenizer
        chatTemplate = model.chatTemplate.flatMap {
            try? ChatTemplate(source: $0, bosToken: tokenizer.bosTokenID.flatMap { tokenizer.token(for: $0) },
                              eosToken: tokenizer.eosTokenID.flatMap { tokenizer.token(for: $0) })
        }
    }

    var modelName: String { configuration.servedModelNames.first ?? model.name }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AuthMiddleware(keys: configuration.apiKeys))
        router.get("/health") { _, _ in HTTPResponse.Status.ok }
        router.get("/version") { _, _ in try self.json(["version": "0.1.0"]) }
        if let metrics { router.get("/metrics") { _, _ in self.prometheus(metrics) } }
        router.get("/v1/models") { _, _ in try self.models() }
        router.post("/v1/completions") { request, context in try await self.completions(request, context) }
        router.post("/v1/chat/completions") { request, context in try await self.chatCompletions(request, context) }
        router.post("/tokenize") { request, context in try await self.tokenize(request, context) }
        router.post("/detokenize") { request, context in try await self.detokenize(request, context) }
        return router
    }

    public func makeApplication(logger: Logger) -> some ApplicationProtocol {
        Application(router: makeRouter(), configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tram"),
                    logger: logger)
    }

    // MARK: - Helpers

    /// The request body, refused beyond `maxRequestBytes`.
    func body(_ request: Request) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: configuration.maxRequestBytes).readableBytesView)
        } catch {
            throw ServerError.badRequest("request body larger than \(configuration.maxRequestBytes) bytes")
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: BasicRequestContext) async throws -> T {
        try decode(T.self, from: await body(request))
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ServerError.badRequest("missing field '\(key.stringValue)'", param: key.stringValue)
        } catch let DecodingError.typeMismatch(_, c) {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw ServerError.badRequest("wrong type for '\(path)': \(c.debugDescription)", param: path)
        } catch let DecodingError.valueNotFound(_, c) {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw ServerError.badRequest("'\(path)' must not be null", param: path)
        } catch let DecodingError.dataCorrupted(c) where !c.codingPath.isEmpty {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            throw ServerError.badRequest("invalid '\(path)': \(c.debugDescription)", param: path)
        } catch {
            throw ServerError.badRequest("the body is not valid JSON")
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func checkModel(_ name: String?) throws {
        if let name, !configuration.servedModelNames.contains(name), name != model.name { throw ServerError.modelNotFound(name) }
    }

    static func mapEngineError(_ error: any Error) -> ServerError {
        switch error {
        case let e as ServerError: e
        case let e as EngineError:
            switch e {
            case .shutdown: .unavailable(e.description)
            case .model: .internalError(e.description)
            default: .badRequest(e.description)
            }
        default: .internalError("\(error)")
        }
    }

    // MARK: - Endpoints

    func models() throws -> Response {
        struct Model: Encodable {
            var id: String
            var object = "model"
            var created: Int
            var owned_by = "tram"
            var root: String
            var max_model_len: Int
        }
        struct List: Encodable {
            var object = "list"
            var data: [Model]
        }
        let names = configuration.servedModelNames.isEmpty ? [model.name] : configuration.servedModelNames
        return try json(List(data: names.map { Model(id: $0, created: created, root: model.path, max_model_len: maxModelLen) }))
    }

    func tokenize(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await decode(TokenizeRequest.self, request, context)
        try checkModel(body.model)
        let text: String
        if let messages = body.messages {
            text = try renderChat(messages, addGenerationPrompt: true)
        } else if let prompt = body.prompt {
            text = prompt
        } else {
            throw ServerError.badRequest("give 'prompt' or 'messages'")
        }
        let ids = model.tokenizer.encode(text, addSpecialTokens: body.add_special_tokens ?? true)
        struct Out: Encodable { var count: Int; var max_model_len: Int; var tokens: [Int] }
        return try json(Out(count: ids.count, max_model_len: maxModelLen, tokens: ids))
    }

    func detokenize(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await decode(DetokenizeRequest.self, request, context)
        try checkModel(body.model)
        let vocab = model.model.vocabularySize
        if let bad = body.tokens.first(where: { $0 < 0 || $0 >= vocab }) {
            throw ServerError.badRequest("token id \(bad) is outside the vocabulary (0..<\(vocab))", param: "tokens")
        }
        return try json(["prompt": model.tokenizer.decode(body.tokens, skipSpecialTokens: false)])
    }

    func renderChat(_ messages: [ChatCompletionRequest.Message], addGenerationPrompt: Bool) throws -> String {
        guard let template = chatTemplate else {
            throw ServerError.badRequest("the model has no chat template (or its template does not parse)")
        }
        do {
            return try template.render(messages.map { ChatMessage(role: $0.role, content: $0.content?.text ?? "") }, addGenerationPrompt: addGenerationPrompt)
        } catch {
            throw ServerError.badRequest(error.description, param: "messages")
        }
    }
}

/// Checks `Authorization: Bearer <key>` on `/v1/*` when keys are configured.
struct AuthMiddleware: RouterMiddleware {
    let keys: [String]

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        if !keys.isEmpty, request.uri.path.hasPrefix("/v1") {
            let header = request.headers[.authorization] ?? ""
            guard header.hasPrefix("Bearer "), keys.contains(String(header.dropFirst(7))) else { throw ServerError.unauthorized }
        }
        return try await next(request, context)
    }
}
