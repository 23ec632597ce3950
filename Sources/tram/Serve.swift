import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TramEngine
import TramKernels
import TramModels
import TramServer
import TramTools

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API.")

    @Argument(help: "A .gguf file, a Hugging Face-style model directory, or an alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8000

    @Option(parsing: .upToNextOption, help: "Model names clients may use (the first is reported); default: the model's name.")
    var servedModelName: [String] = []

    @Option(help: "Accepted API key for /v1 (repeatable; also TRAM_API_KEY).")
    var apiKey: [String] = []

    @Option(help: "A Jinja chat template file (or the template itself) replacing the model's.")
    var chatTemplate: String?

    @Option(help: "Defaults for sampling fields a request leaves out: auto (the model's generation_config.json), vllm (none), or a path to a generation_config.json or its folder.")
    var generationConfig = "auto"

    @Option(help: "Requests allowed to wait for a slot; more get 503 (default: no limit).")
    var maxNumQueuedReqs: Int?

    @Flag(help: "Log each request's prompt and sampling parameters.")
    var enableLogRequests = false

    @Option(help: "Seconds to let in-flight requests finish after SIGINT/SIGTERM before aborting them.")
    var shutdownTimeout = 30.0

    @Flag(help: "Accepted for vLLM compatibility: usage.prompt_tokens_details.cached_tokens is always reported.")
    var enablePromptTokensDetails = false

    @Option(help: "Largest request body accepted, in bytes.")
    var maxRequestBytes = 16 << 20

    @Flag(help: "Let tool_choice \"auto\" (and tools without a tool_choice) call tools, read from the model's text with --tool-call-parser.")
    var enableAutoToolChoice = false

    @Option(help: "How tool calls are written in the model's output: \(ToolCallParsers.names.joined(separator: ", ")): hermes for Qwen2.5 and Hermes, llama3_json (or llama4_json) for Llama 3.1+ JSON calls, mistral for Mistral, pythonic for Llama 3.2/4 and ToolACE.")
    var toolCallParser: String?

    @Option(help: "Split the model's thinking (<think>…</think>) into message.reasoning: \(ReasoningParser.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var reasoningParser: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if let q = maxNumQueuedReqs, q < 1 { throw ValidationError("--max-num-queued-reqs must be at least 1, got \(q)") }
        // Bounded so that the drain deadline (milliseconds in an Int) cannot overflow.
        guard shutdownTimeout.isFinite, (0...86_400).contains(shutdownTimeout) else {
            throw ValidationError("--shutdown-timeout must be between 0 and 86400 seconds, got \(shutdownTimeout)")
        }
        guard maxRequestBytes >= 1024 else { throw ValidationError("--max-request-bytes must be at least 1024") }
        if let parser = toolCallParser, !ToolCallParsers.names.contains(parser) {
            throw ValidationError("--tool-call-parser must be one of \(ToolCallParsers.names.joined(separator: ", ")), got '\(parser)'")
        }
        if let parser = reasoningParser, ReasoningParser.Kind(rawValue: parser) == nil {
            throw ValidationError("--reasoning-parser must be one of \(ReasoningParser.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(parser)'")
        }
        if enableAutoToolChoice, toolCallParser == nil {
            throw ValidationError("--enable-auto-tool-choice needs --tool-call-parser")
        }
    }

    func run() async throws {
        let logger = Logger(label: "tram")
        let clock = ContinuousClock()
        let start = clock.now
        var phases: [(String, Duration)] = []
        func phase<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t = clock.now
            defer { phases.append((name, clock.now - t)) }
            return try body()
        }

        let loaded = try phase("load model") { try loadModel(model, precision: engine.precision(), threads: engine.threads, logger: logger) }
        let draft = try phase("load draft model") { try engine.loadDraft(logger: logger) }
        let templateSource = try phase("chat template") { try chatTemplate.map(Self.readChatTemplate) }
        let generation = try Self.generationConfigSource(generationConfig)
        let core: EngineCore
        do { core = try phase("engine + KV cache") { try EngineCore(model: loaded, configuration: engine.configuration(), draft: draft) } } catch {
            throw ValidationError("\(error)")
        }
        logger.info("model \(loaded.name): \(loaded.format), \(loaded.model.weightDescription); max model length \(core.maxModelLen)")
        logger.info("kernels: \(KernelISA.selectionDescription)")
        if let policy = core.speculationPolicy { logger.info("speculative decoding: \(policy.description)") }
        logger.info("KV cache: \(core.kvSizing.numBlocks) blocks of \(core.kvSizing.blockSize) tokens (\(KVCacheSizing.format(bytes: core.kvSizing.bytes)), \(core.kvSizing.dtype.rawValue)), up to \(core.kvSizing.maxCachedTokens) tokens at once (\(String(format: "%.1f", Double(core.kvSizing.maxCachedTokens) / Double(core.maxModelLen)))× max model length); max-num-seqs \(core.scheduler.config.maxNumSeqs), max-num-batched-tokens \(core.scheduler.config.maxNumBatchedTokens)")
        if case .auto = generation, !loaded.generationDefaults.isEmpty {
            logger.info("default sampling parameters from generation_config.json: \(loaded.generationDefaults) (--generation-config vllm ignores them)")
        }
        let statistics = StatisticsBox(logger: Logger(label: "tram.engine"))
        core.collectsIterationStatistics = true
        let metrics = EngineMetrics(maxModelLen: core.maxModelLen, cacheConfig: EngineMetrics.cacheConfigInfo(core),
                                    speculativeDecoding: core.configuration.speculativeConfig != nil)
        let loop = EngineLoop(core: core) { core in
            statistics.record(core.statistics)
            metrics.record(core)
        }
        var keys = apiKey
        if let env = ProcessInfo.processInfo.environment["TRAM_API_KEY"], !env.isEmpty { keys.append(env) }
        let names = servedModelName.isEmpty ? [loaded.name] : servedModelName
        let configuration = ServerConfiguration(
            host: host, port: port, servedModelNames: names, apiKeys: keys, maxRequestBytes: maxRequestBytes,
            maxNumQueuedRequests: maxNumQueuedReqs, generationConfig: generation, logRequests: enableLogRequests,
            chatTemplate: templateSource, enableAutoToolChoice: enableAutoToolChoice, toolCallParser: toolCallParser,
            reasoningParser: reasoningParser)
        let server = OpenAIServer(model: loaded, engine: loop, maxModelLen: core.maxModelLen, configuration: configuration,
                                  limits: core.requestLimits, metrics: metrics, logger: Logger(label: "tram.server"))
        logger.info("\(server.chatTemplateDescription)")
        if let problem = server.chatTemplateProblem {
            logger.warning("chat requests will get 400: \(problem); pass one with --chat-template")
        }
        let summary = phases.map { "\($0.0) \(Self.milliseconds($0.1)) ms" }.joined(separator: ", ")
        let (host, port) = (host, port)
        let app = server.makeApplication(logger: logger) {
            logger.info("serving \(names.joined(separator: ", ")) on http://\(host):\(port) — ready \(Self.milliseconds(clock.now - start)) ms after start (\(summary))")
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger))
        let drain = Drain(server: server, loop: loop, group: group, timeout: shutdownTimeout, logger: logger)
        drain.installSignalHandlers()
        try await group.run()
        loop.shutdown()
        logger.info("stopped")
    }

    /// `--chat-template`: a file's contents, or the argument itself when it is a template
    /// (it holds Jinja delimiters) rather than a path, as vLLM accepts both.
    static func readChatTemplate(_ argument: String) throws -> String {
        if let data = FileManager.default.contents(atPath: argument) { return String(decoding: data, as: UTF8.self) }
        if argument.contains("{{") || argument.contains("{%") { return argument }
        throw ValidationError("--chat-template: cannot read '\(argument)'")
    }

    static func generationConfigSource(_ argument: String) throws -> GenerationConfigSource {
        switch argument {
        case "auto": return .auto
        case "vllm": return .vllm
        default:
            do { return .custom(try GenerationDefaults(contentsOf: argument)) } catch {
                throw ValidationError("--generation-config must be auto, vllm or a path to a generation_config.json: \(error.description)")
            }
        }
    }

    static func milliseconds(_ d: Duration) -> String { String(format: "%.0f", seconds(d) * 1000) }
}

/// SIGINT/SIGTERM handling: the first signal stops new requests (503, /health 503), lets the
/// in-flight ones finish for up to `timeout`, aborts the rest (freeing their KV blocks), then
/// stops the HTTP server. A second signal skips the wait.
final class Drain: @unchecked Sendable {
    private let server: OpenAIServer
    private let loop: EngineLoop<EngineCore>
    private let group: ServiceGroup
    private let timeout: Double
    private let logger: Logger
    private let lock = NSLock()
    private var signals = 0
    private var sources: [any DispatchSourceSignal] = []

    init(server: OpenAIServer, loop: EngineLoop<EngineCore>, group: ServiceGroup, timeout: Double, logger: Logger) {
        self.server = server
        self.loop = loop
        self.group = group
        self.timeout = timeout
        self.logger = logger
    }

    func installSignalHandlers() {
        let queue = DispatchQueue(label: "tram.signals")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in received(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func received(_ number: Int32) {
        let count = lock.withLock { signals += 1; return signals }
        let name = number == SIGINT ? "SIGINT" : "SIGTERM"
        if count > 1 {
            logger.warning("\(name) again: aborting \(loop.numUnfinishedRequests) requests now")
            stop()
            return
        }
        server.beginDraining()
        logger.info("\(name): draining \(loop.numUnfinishedRequests) in-flight requests (up to \(timeout) s); new requests get 503")
        Task { [self] in
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while loop.numUnfinishedRequests > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            let left = loop.numUnfinishedRequests
            if left > 0 { logger.warning("shutdown timeout: aborting \(left) unfinished requests") }
            stop()
        }
    }

    private func stop() {
        loop.shutdown()
        Task { await group.triggerGracefulShutdown() }
    }
}

/// Holds the periodic statistics logger, fed from the engine thread.
final class StatisticsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var logger: StatisticsLogger

    init(logger: Logger) { self.logger = StatisticsLogger(logger: logger) }

    func record(_ s: EngineStatistics) {
        lock.withLock { logger.record(s) }
    }
}
