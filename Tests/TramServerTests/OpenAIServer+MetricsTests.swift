import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramEngine
import TramModels
import TramServer
import TramTestSupport

/// `GET /metrics` with the real model behind the server, fed by the engine loop as `tram serve`
/// feeds it.
@Suite(.serialized) struct OpenAIServerMetricsTests {
    // Its own model instance: this suite's engine thread may run beside OpenAIServerTests'.
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    func withServer(_ body: @Sendable (any TestClientProtocol, OpenAIServer) async throws -> Void) async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 512, kvCacheMemory: 32 << 20, threads: 2))
        core.collectsIterationStatistics = true
        let metrics = EngineMetrics(maxModelLen: core.maxModelLen, cacheConfig: EngineMetrics.cacheConfigInfo(core))
        let loop = EngineLoop(core: core) { metrics.record($0) }
        defer { loop.shutdown() }
        let server = OpenAIServer(model: model, engine: loop, maxModelLen: 512,
                                  configuration: ServerConfiguration(servedModelNames: ["smol"], apiKeys: ["secret"]), metrics: metrics)
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in try await body(client, server) }
    }

    static func scrape(_ client: any TestClientProtocol) async throws -> Set<String> {
        try await client.execute(uri: "/metrics", method: .get) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            return Set(String(buffer: response.body).split(separator: "\n").map(String.init))
        }
    }

    @Test func completionShowsUpInTheMetrics() async throws {
        try await withServer { client, _ in
            let before = try await Self.scrape(client)  // no API key needed, like /health
            // 32 MiB of f16 KV (the Q4_1 file's default): 16 tokens × 23,040 bytes per block → 91 blocks.
            #expect(before.contains(#"tram:cache_config_info{block_size="16",cache_dtype="float16",enable_prefix_caching="True",kv_cache_memory_bytes="33546240",model_name="smol",num_gpu_blocks="91"} 1.0"#))
            #expect(before.contains(#"tram:request_success_total{finished_reason="length",model_name="smol"} 0.0"#))
            let body = #"{"prompt": "The capital of France is", "max_tokens": 3, "temperature": 0, "ignore_eos": true}"#
            let promptTokens = try await client.execute(uri: "/v1/completions", method: .post, headers: [.authorization: "Bearer secret"],
                                                        body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                return try #require(usageCounts(object)?["prompt_tokens"])
            }
            let after = try await Self.scrape(client)
            for line in [
                #"tram:request_success_total{finished_reason="length",model_name="smol"} 1.0"#,
                #"tram:request_success_total{finished_reason="stop",model_name="smol"} 0.0"#,
                #"tram:prompt_tokens_total{model_name="smol"} \#(Double(promptTokens))"#,
                #"tram:generation_tokens_total{model_name="smol"} 3.0"#,
                #"tram:request_prompt_tokens_sum{model_name="smol"} \#(Double(promptTokens))"#,
                #"tram:request_generation_tokens_sum{model_name="smol"} 3.0"#,
                #"tram:iteration_tokens_total_sum{model_name="smol"} \#(Double(promptTokens + 3))"#,
                #"tram:iteration_tokens_total_count{model_name="smol"} 3.0"#,
                #"tram:time_to_first_token_seconds_count{model_name="smol"} 1.0"#,
                #"tram:inter_token_latency_seconds_count{model_name="smol"} 2.0"#,
                #"tram:e2e_request_latency_seconds_count{model_name="smol"} 1.0"#,
                #"tram:request_queue_time_seconds_count{model_name="smol"} 1.0"#,
                #"tram:request_prefill_time_seconds_count{model_name="smol"} 1.0"#,
                #"tram:request_decode_time_seconds_count{model_name="smol"} 1.0"#,
                #"tram:num_requests_running{model_name="smol"} 0.0"#,
                #"tram:num_requests_waiting{model_name="smol"} 0.0"#,
                #"tram:kv_cache_usage_perc{model_name="smol"} 0.0"#,
            ] {
                #expect(after.contains(line), "\(line)")
            }
        }
    }

    /// A request aborted mid-generation (what a client hanging up causes) counts as finished
    /// with reason abort.
    @Test func droppedRequestCountsAsAbort() async throws {
        try await withServer { client, server in
            var p = SamplingParameters(temperature: 0, maxTokens: 200)
            p.ignoreEOS = true
            let request = EngineRequest(promptTokenIDs: Array(1000..<1010), parameters: p)
            // A handler whose client hangs up aborts its engine request (LiveServerTests proves
            // that path over real sockets); here the abort is issued directly once the first
            // token has arrived, so the test does not depend on scheduling under load.
            let stream = try server.engine.trySubmit(request, id: "gone", maxQueued: nil)
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            server.engine.abort("gone")
            let abort = #"tram:request_success_total{finished_reason="abort",model_name="smol"} 1.0"#
            var lines = try await Self.scrape(client)
            for _ in 0..<3000 where !lines.contains(abort) {
                try await Task.sleep(for: .milliseconds(10))
                lines = try await Self.scrape(client)
            }
            #expect(lines.contains(abort))
            #expect(lines.contains(#"tram:time_to_first_token_seconds_count{model_name="smol"} 1.0"#))
            #expect(lines.contains(#"tram:request_generation_tokens_count{model_name="smol"} 1.0"#))
            #expect(lines.contains(#"tram:num_requests_running{model_name="smol"} 0.0"#))
        }
    }
}
