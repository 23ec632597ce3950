import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramBench
import TramEngine
import TramModels
import TramServer
import TramTestSupport
import TramTokenizer

/// `tram bench serve`'s machinery against a real Tram server on a loopback port, with the real
/// model. Like the engine's streaming tests, these run their own engine beside other suites:
/// ModelTestLock cannot be held across awaits (sync tests waiting on it would take the
/// cooperative threads this server and client need).
@Suite(.serialized) struct BenchServeEndToEndTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    func withServer(apiKeys: [String] = [], _ body: @Sendable (LoadedModel, ServerAddress) async throws -> Void) async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 512, kvCacheMemory: 32 << 20, threads: 2))
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        let server = OpenAIServer(model: model, engine: loop, maxModelLen: 512,
                                  configuration: ServerConfiguration(host: "127.0.0.1", port: 0, servedModelNames: ["smol"], apiKeys: apiKeys))
        let app = Application(router: server.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(model, ServerAddress(host: "127.0.0.1", port: port))
        }
    }

    static func runner(_ client: HTTPClient, api: APIKind = .completions, model: String = "smol", maxConcurrency: Int? = 2, rate: Double = .infinity) -> BenchmarkRunner {
        let sender = RequestSender(client: client, endpoint: api == .chat ? "/v1/chat/completions" : "/v1/completions", api: api,
                                   model: model, ignoreEOS: true, temperature: 0)
        return BenchmarkRunner(sender: sender, requestRate: rate, maxConcurrency: maxConcurrency)
    }

    @Test func tinyBenchmark() async throws {
        try await withServer { model, address in
            let client = HTTPClient(address: address)
            #expect(try await client.firstModel().id == "smol")
            let requests = try RandomDataset(inputLen: 16, outputLen: 8, seed: 0).sample(count: 4, tokenizer: model.tokenizer)
            var progress: [Int] = []
            let run = await Self.runner(client).run(requests) { progress.append($0) }
            #expect(progress == [1, 2, 3, 4])
            let metrics = BenchmarkMetrics(outputs: run.outputs, duration: run.duration) { model.tokenizer.encode($0, addSpecialTokens: false).count }
            let errors = run.outputs.map(\.error)
            #expect(metrics.completed == 4 && metrics.failed == 0, "\(errors)")
            #expect(metrics.totalInput == 64)
            #expect(metrics.totalOutput == 32)
            #expect(metrics.maxConcurrentRequests <= 2)
            for output in run.outputs {
                #expect(output.promptLen == 16 && output.outputTokens == 8)
                #expect(output.ttft > 0 && output.ttft <= output.latency)
                #expect(output.itl.count == output.textChunks - 1)
                #expect(abs(output.ttft + output.itl.reduce(0, +) - output.latency) < 1e-6)
            }
            #expect(metrics.tpots.count == 4)
            #expect(ConsistencyCheck.warnings(requests: requests, outputs: run.outputs, api: .completions, ignoreEOS: true).isEmpty)
            #expect(run.duration >= run.outputs.map { $0.startTime + $0.latency }.max()!)
        }
    }

    @Test func chatEndpointAndArrivalRate() async throws {
        try await withServer { model, address in
            let client = HTTPClient(address: address)
            let requests = try RandomDataset(inputLen: 8, outputLen: 4, seed: 1).sample(count: 3, tokenizer: model.tokenizer)
            // 3 requests at 20/s: the last leaves 0.15 s after the first.
            let run = await Self.runner(client, api: .chat, maxConcurrency: nil, rate: 20).run(requests)
            let errors = run.outputs.map(\.error)
            #expect(run.outputs.allSatisfy { $0.success }, "\(errors)")
            #expect(run.outputs.allSatisfy { $0.outputTokens == 4 && $0.promptLen > 8 })
            // Never early; late only by scheduling delay (generous: the machine may be busy).
            let last = run.outputs.map(\.startTime).max()!
            #expect(last >= 0.15 - 1e-3 && last < 1.5, "\(last)")
        }
    }

    @Test func failuresAreCountedNotThrown() async throws {
        try await withServer { model, address in
            let client = HTTPClient(address: address)
            let requests = try RandomDataset(inputLen: 8, outputLen: 2, seed: 2).sample(count: 2, tokenizer: model.tokenizer)
            let wrongModel = await Self.runner(client, model: "no-such-model").run(requests)
            #expect(wrongModel.outputs.allSatisfy { !$0.success && $0.error.hasPrefix("HTTP 404") })
            let refused = await Self.runner(HTTPClient(address: ServerAddress(host: "127.0.0.1", port: 1))).run(requests)
            #expect(refused.outputs.allSatisfy { !$0.success && $0.error.contains("cannot reach") })
            let metrics = BenchmarkMetrics(outputs: refused.outputs, duration: refused.duration) { _ in 0 }
            #expect(metrics.completed == 0 && metrics.failed == 2)
        }
    }

    @Test func apiKeyIsSentAsBearerToken() async throws {
        try await withServer(apiKeys: ["secret"]) { model, address in
            let requests = try RandomDataset(inputLen: 8, outputLen: 2, seed: 3).sample(count: 1, tokenizer: model.tokenizer)
            let without = await Self.runner(HTTPClient(address: address)).run(requests)
            #expect(without.outputs[0].error.hasPrefix("HTTP 401"))
            let with = await Self.runner(HTTPClient(address: address, apiKey: "secret")).run(requests)
            #expect(with.outputs[0].success && with.outputs[0].outputTokens == 2)
        }
    }
}
