import Foundation
import TramInput
public import Hummingbird
public import Logging
import Synchronization
import TramChat
import TramTemplate
public import TramEngine
public import TramModels
import TramTokenizer
import TramTools

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
    /// Requests allowed to wait for a slot; beyond it new requests get 503 (`--max-num-queued-reqs`).
    public var maxNumQueuedRequests: Int?
    /// Where request defaults come from (`--generation-config`).
    public var generationConfig: GenerationConfigSource
    /// Log each request's prompt and parameters (`--enable-log-requests`).
    public var logRequests: Bool
    /// A Jinja chat template replacing the model's (`--chat-template`).
    public var chatTemplate: String?
    /// `--enable-auto-tool-choice`: `tool_choice: "auto"` (and tools without a tool_choice) read
    /// calls out of the model's text with `toolCallParser` (`--tool-call-parser`).
    public var enableAutoToolChoice: Bool
    public var toolCallParser: String?
    /// `--reasoning-parser`: thinking split into `message.reasoning`.
    public var reasoningParser: String?

    public init(host: String = "127.0.0.1", port: Int = 8000, servedModelNames: [String], apiKeys: [String] = [], maxRequestBytes: Int = 16 << 20,
                maxNumQueuedRequests: Int? = nil, generationConfig: GenerationConfigSource = .auto, logRequests: Bool = false, chatTemplate: String? = nil,
                enableAutoToolChoice: Bool = false, toolCallParser: String? = nil, reasoningParser: String? = nil) {
        self.reasoningParser = reasoningParser
        self.enableAutoToolChoice = enableAutoToolChoice
        self.toolCallParser = toolCallParser
        self.host = host
        self.port = port
        self.servedModelNames = servedModelNames
        self.apiKeys = apiKeys
        self.maxRequestBytes = maxRequestBytes
        self.maxNumQueuedRequests = maxNumQueuedRequests
        self.generationConfig = generationConfig
        self.logRequests = logRequests
        self.chatTemplate = chatTemplate
    }
}

/// vLLM's `--generation-config`: which sampling defaults fill fields a request leaves out.
public enum GenerationConfigSource: Sendable, Equatable {
    /// The model's `generation_config.json` (vLLM's default).
    case auto
    /// vLLM's own defaults only (temperature 1, top_p 1, …).
    case vllm
    /// Defaults read from a given file or directory.
    case custom(GenerationDefaults)
}

/// The OpenAI-compatible HTTP surface over an engine: completions and chat completions (JSON or
/// server-sent events), models, health, tokenize/detokenize, version, and Prometheus metrics.
///
/// A handler validates and tokenizes, then submits to the engine and relays its outputs. When
/// the client goes away the handler's task is cancelled, its stream is dropped, and the engine
/// aborts the request at the next step boundary, freeing its KV blocks.
public final class OpenAIServer: Sendable {
    public let model: LoadedModel
    public let engine: any EngineClient
    public let configuration: ServerConfiguration
    public let maxModelLen: Int
    /// Served at `GET /metrics` when given; the engine loop's `onStep` must feed it.
    public let metrics: EngineMetrics?
    /// Request bodies → validated engine requests.
    let input: InputProcessor
    /// Where the chat template came from (`--chat-template`, the model, Tram's built-in one).
    let chatTemplateChoice: ChatTemplateChoice
    let created = Int(Date().timeIntervalSince1970)
    let logger: Logger
    private let draining = Atomic<Bool>(false)

    /// - Parameter limits: the engine core's `requestLimits`, checked before a request reaches it.
    public init(model: LoadedModel, engine: any EngineClient, maxModelLen: Int, configuration: ServerConfiguration,
                limits: RequestLimits = RequestLimits(), metrics: EngineMetrics? = nil, logger: Logger = Logger(label: "tram.server")) {
        self.model = model
        self.metrics = metrics
        self.engine = engine
        self.maxModelLen = maxModelLen
        self.configuration = configuration
        self.logger = logger
        let defaults: GenerationDefaults
        switch configuration.generationConfig {
        case .auto: defaults = model.generationDefaults
        case .vllm: defaults = GenerationDefaults()
        case let .custom(d): defaults = d
        }
        let tokenizer = model.tokenizer
        let choice = ChatTemplateChoice(argument: configuration.chatTemplate, model: model)
        chatTemplateChoice = choice
        let chatTemplate = InputProcessor.chatTemplate(source: choice.source, tokenizer: tokenizer)
        input = InputProcessor(tokenizer: tokenizer, chatTemplate: chatTemplate, vocabularySize: model.model.vocabularySize,
                               maxModelLen: maxModelLen, limits: limits, defaults: defaults, eosTokenIDs: model.eosTokenIDs,
                               toolCalling: ToolCallingOptions(enableAutoToolChoice: configuration.enableAutoToolChoice,
                                                               toolCallParser: configuration.toolCallParser),
                               reasoning: configuration.reasoningParser.flatMap(ReasoningParser.Kind.init(rawValue:)))
    }

    var modelName: String { configuration.servedModelNames.first ?? model.name }

    /// Which chat template chat requests use and where it came from, for the start-up log.
    public var chatTemplateDescription: String { chatTemplateChoice.logLine(architecture: model.architecture) }

    /// Why chat requests will be refused (no template, or one that does not parse), or nil; for
    /// a warning at start-up.
    public var chatTemplateProblem: String? {
        if case let .failure(error) = input.chatTemplate { return error.description }
        return nil
    }

    /// Stops taking generation requests (503) and reports unhealthy, so a shutdown can drain.
    public func beginDraining() { draining.store(true, ordering: .relaxed) }
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Whether the server can take requests: the engine runs and no shutdown is under way.
    public var isHealthy: Bool { engine.isAlive && !isDraining }

    /// The routes behind Tram's front door (see `ServerRouter`), one controller per endpoint
    /// family (`Controllers/`): `/v1/*` takes the API key on the matched route when keys are
    /// configured; `/health`, `/version`, `/metrics`, `/tokenize` and `/detokenize` do not, as in vLLM.
    public func makeRouter() -> ServerRouter {
        var routes = RouteTable(apiKeys: configuration.apiKeys)
        ServiceController(server: self).addRoutes(to: &routes)
        TokenizeController(server: self).addRoutes(to: &routes)
        ModelsController(server: self).addRoutes(to: &routes)
        CompletionsController(server: self).addRoutes(to: &routes)
        ChatController(server: self).addRoutes(to: &routes)
        return ServerRouter(router: routes.router, routes: routes.methods)
    }

    /// - Parameter onServerRunning: called once the socket listens (for start-up timing).
    public func makeApplication(logger: Logger, onServerRunning: @escaping @Sendable () async -> Void = {}) -> some ApplicationProtocol {
        Application(router: makeRouter(), server: .http1(additionalChannelHandlers: [HangUpHandler()]),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tram"),
                    onServerRunning: { _ in await onServerRunning() }, logger: logger)
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

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ServerRequestContext) async throws -> T {
        try InputProcessor.decode(T.self, from: await body(request))
    }

    /// The encoder of every JSON body and event (slashes unescaped, as Python's json writes them).
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = Self.makeEncoder()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func checkModel(_ name: String?) throws {
        if let name, !configuration.servedModelNames.contains(name), name != model.name { throw ServerError.modelNotFound(name) }
    }

    static func mapEngineError(_ error: any Error) -> ServerError {
        switch error {
        case let e as ServerError: e
        case let e as InputError: .badRequest(e.message, param: e.param)
        case let e as EngineError:
            switch e {
            case .shutdown, .queueFull: .unavailable(e.description)
            case .model: .internalError(e.description)
            case let .invalidField(message, param): .badRequest(message, param: param)
            default: .badRequest(e.description)
            }
        default: .internalError("\(error)")
        }
    }
}

/// Checks `Authorization: Bearer <key>`; added to the `/v1` route group, so it runs for every
/// route matched there, whatever the raw path looked like.
struct AuthMiddleware: RouterMiddleware {
    let keys: [String]

    func handle(_ request: Request, context: ServerRequestContext, next: (Request, ServerRequestContext) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), keys.contains(String(header.dropFirst(7))) else { throw ServerError.unauthorized }
        return try await next(request, context)
    }
}
