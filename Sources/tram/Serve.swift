import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TramEngine
import TramModels
import TramServer

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

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let logger = Logger(label: "tram")
        let loaded = try loadModel(model, logger: logger)
        let core: EngineCore
        do { core = try EngineCore(model: loaded, configuration: engine.configuration()) } catch { throw ValidationError("\(error)") }
        logger.info("KV cache: \(core.kvSizing.numBlocks) blocks of \(core.kvSizing.blockSize) tokens (\(KVCacheSizing.format(bytes: core.kvSizing.bytes))), up to \(core.kvSizing.maxCachedTokens) tokens; max model length \(core.maxModelLen)")
        let statistics = StatisticsBox(logger: Logger(label: "tram.engine"))
        core.collectsIterationStatistics = true
        let metrics = EngineMetrics(maxModelLen: core.maxModelLen)
        let loop = EngineLoop(core: core) { core in
            statistics.record(core.statistics)
            metrics.record(core)
        }
        var keys = apiKey
        if let env = ProcessInfo.processInfo.environment["TRAM_API_KEY"], !env.isEmpty { keys.append(env) }
        let names = servedModelName.isEmpty ? [loaded.name] : servedModelName
        let server = OpenAIServer(model: loaded, engine: loop, maxModelLen: core.maxModelLen,
                                  configuration: ServerConfiguration(host: host, port: port, servedModelNames: names, apiKeys: keys),
                                  metrics: metrics)
        logger.info("serving \(names.joined(separator: ", ")) on http://\(host):\(port)")
        try await server.makeApplication(logger: logger).runService()
        loop.shutdown()
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
