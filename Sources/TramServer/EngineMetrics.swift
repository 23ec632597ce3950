import Foundation
public import TramEngine
import TramModels

/// The numbers behind `GET /metrics`: vLLM's v1 metrics (`vllm/v1/metrics/loggers.py`) with
/// their types, meanings and bucket bounds, named `tram:` where vLLM says `vllm:`, so that a
/// vLLM dashboard works by changing the prefix.
///
/// The engine thread feeds it after every step and abort (`record(_:)`, from `EngineLoop`'s
/// `onStep`); HTTP handlers render it (`render(modelName:)`); a lock guards both. Gauges and the
/// scheduler's running totals are copied from `EngineStatistics`; everything per request comes
/// from the core's `IterationStatistics`, which must be switched on
/// (`EngineCore.collectsIterationStatistics`).
///
/// Unlike vLLM 0.x, whose client aborts bypass its request metrics (vllm-project/vllm#31503),
/// an aborted request counts as `request_success_total{finished_reason="abort"}` and in the
/// histograms of the phases it reached.
public final class EngineMetrics: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`.
    private var statistics = EngineStatistics()
    private var promptTokens = 0
    private var generationTokens = 0
    private var finished: [FinishReason: Int] = [:]
    private var requestPromptTokens: Histogram
    private var requestGenerationTokens: Histogram
    private var iterationTokens = Histogram(bounds: Buckets.iterationTokens)
    private var timeToFirstToken = Histogram(bounds: Buckets.timeToFirstToken)
    private var interTokenLatency = Histogram(bounds: Buckets.interTokenLatency)
    private var e2eLatency = Histogram(bounds: Buckets.requestLatency)
    private var queueTime = Histogram(bounds: Buckets.requestLatency)
    private var inferenceTime = Histogram(bounds: Buckets.requestLatency)
    private var prefillTime = Histogram(bounds: Buckets.requestLatency)
    private var decodeTime = Histogram(bounds: Buckets.requestLatency)

    /// Labels of `tram:cache_config_info` (vLLM's `cache_config_info`, an info gauge of value 1).
    private let cacheConfig: [String: String]
    private let speculativeDecoding: Bool

    /// - Parameters:
    ///   - maxModelLen: caps the 1-2-5 bounds of the per-request token histograms.
    ///   - cacheConfig: the KV cache's settings, as `cacheConfigInfo(_:)` gives them; empty leaves
    ///     `cache_config_info` out.
    ///   - speculativeDecoding: whether the `spec_decode_*` counters are published (vLLM
    ///     publishes them only with `--speculative-config`).
    public init(maxModelLen: Int, cacheConfig: [String: String] = [:], speculativeDecoding: Bool = false) {
        self.cacheConfig = cacheConfig
        self.speculativeDecoding = speculativeDecoding
        requestPromptTokens = Histogram(bounds: Buckets.oneTwoFive(upTo: maxModelLen))
        requestGenerationTokens = Histogram(bounds: Buckets.oneTwoFive(upTo: maxModelLen))
    }

    /// The KV cache settings vLLM publishes as `cache_config_info` labels, under its field names
    /// (`num_gpu_blocks` is the cache's block count, in RAM here; booleans as Python prints them),
    /// so tools that read the KV capacity from it (block_size × num_gpu_blocks tokens) work.
    public static func cacheConfigInfo(_ core: EngineCore) -> [String: String] {
        [
            "block_size": "\(core.kvSizing.blockSize)",
            "num_gpu_blocks": "\(core.kvSizing.numBlocks)",
            "cache_dtype": core.kvSizing.dtype.rawValue,
            "kv_cache_memory_bytes": "\(core.kvSizing.bytes)",
            "enable_prefix_caching": core.configuration.enablePrefixCaching ? "True" : "False",
        ]
    }

    /// Takes the core's statistics and drains its iteration statistics. Call it on the engine
    /// thread: as `EngineLoop`'s `onStep`.
    public func record(_ core: EngineCore) {
        record(core.statistics, core.takeIterationStatistics())
    }

    package func record(_ statistics: EngineStatistics, _ iteration: IterationStatistics) {
        lock.withLock {
            self.statistics = statistics
            promptTokens += iteration.promptTokens
            generationTokens += iteration.generationTokens
            for n in iteration.stepTokens { iterationTokens.observe(Double(n)) }
            for t in iteration.timesToFirstToken { timeToFirstToken.observe(t) }
            for t in iteration.interTokenLatencies { interTokenLatency.observe(t) }
            for r in iteration.finished {
                finished[r.reason, default: 0] += 1
                requestPromptTokens.observe(Double(r.promptTokens))
                requestGenerationTokens.observe(Double(r.generationTokens))
                e2eLatency.observe(r.e2eLatency)
                if let t = r.queueTime { queueTime.observe(t) }
                if let t = r.inferenceTime { inferenceTime.observe(t) }
                if let t = r.prefillTime { prefillTime.observe(t) }
                if let t = r.decodeTime { decodeTime.observe(t) }
            }
        }
    }

    /// The exposition, every series labelled `model_name`.
    package func render(modelName: String) -> String {
        let labels = ["model_name": modelName]
        return lock.withLock {
            var out = PrometheusText()
            let s = statistics
            if !cacheConfig.isEmpty {
                out.gauge("tram:cache_config_info", help: "Information of the LLMEngine CacheConfig",
                          [(labels.merging(cacheConfig) { a, _ in a }, 1)])
            }
            out.gauge("tram:num_requests_running", help: "Number of requests in model execution batches.",
                      [(labels, Double(s.numRunning))])
            out.gauge("tram:num_requests_waiting", help: "Number of requests waiting to be processed.",
                      [(labels, Double(s.numWaiting))])
            out.gauge("tram:kv_cache_usage_perc", help: "KV-cache usage. 1 means 100 percent usage.",
                      [(labels, s.kvCacheUsage)])
            out.counter("tram:prefix_cache_queries", help: "Prefix cache queries, in terms of number of queried tokens.",
                        [(labels, Double(s.prefixCacheQueries))])
            out.counter("tram:prefix_cache_hits", help: "Prefix cache hits, in terms of number of cached tokens.",
                        [(labels, Double(s.prefixCacheHits))])
            out.counter("tram:num_preemptions", help: "Cumulative number of preemption from the engine.",
                        [(labels, Double(s.numPreemptions))])
            if speculativeDecoding {
                out.counter("tram:spec_decode_num_drafts", help: "Number of spec decoding drafts.", [(labels, Double(s.specDecodeNumDrafts))])
                out.counter("tram:spec_decode_num_draft_tokens", help: "Number of draft tokens.",
                            [(labels, Double(s.specDecodeNumDraftTokens))])
                out.counter("tram:spec_decode_num_accepted_tokens", help: "Number of accepted tokens.",
                            [(labels, Double(s.specDecodeNumAcceptedTokens))])
                out.counter("tram:spec_decode_num_accepted_tokens_per_pos", help: "Accepted tokens per draft position.",
                            s.specDecodeAcceptedPerPosition.enumerated().map { p, n in
                                (labels.merging(["position": "\(p)"]) { a, _ in a }, Double(n))
                            })
            }
            out.counter("tram:prompt_tokens", help: "Number of prefill tokens processed.", [(labels, Double(promptTokens))])
            out.counter("tram:generation_tokens", help: "Number of generation tokens processed.", [(labels, Double(generationTokens))])
            out.counter("tram:request_success", help: "Count of successfully processed requests.",
                        [FinishReason.stop, .length, .abort].map { reason in
                            (labels.merging(["finished_reason": reason.rawValue]) { a, _ in a }, Double(finished[reason] ?? 0))
                        })
            let histograms: [(String, String, Histogram)] = [
                ("tram:request_prompt_tokens", "Number of prefill tokens processed.", requestPromptTokens),
                ("tram:request_generation_tokens", "Number of generation tokens processed.", requestGenerationTokens),
                ("tram:iteration_tokens_total", "Histogram of number of tokens per engine_step.", iterationTokens),
                ("tram:time_to_first_token_seconds", "Histogram of time to first token in seconds.", timeToFirstToken),
                ("tram:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", interTokenLatency),
                ("tram:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", e2eLatency),
                ("tram:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", queueTime),
                ("tram:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", inferenceTime),
                ("tram:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", prefillTime),
                ("tram:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", decodeTime),
            ]
            for (name, help, h) in histograms { out.histogram(name, help: help, [(labels, h)]) }
            return out.text
        }
    }

    /// vLLM's bucket bounds (`vllm/v1/metrics/buckets.py`).
    package enum Buckets {
        /// e2e, queue, inference, prefill and decode times.
        package static let requestLatency: [Double] = [
            0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
        ]
        package static let timeToFirstToken: [Double] = [
            0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
        ]
        package static let interTokenLatency: [Double] = [
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
        ]
        package static let iterationTokens: [Double] = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]

        /// 1, 2, 5, 10, 20, 50, … up to `max` (`build_1_2_5_buckets`), for token counts.
        package static func oneTwoFive(upTo max: Int) -> [Double] {
            var bounds: [Double] = []
            var scale = 1
            while true {
                for m in [1, 2, 5] {
                    guard m * scale <= max else { return bounds }
                    bounds.append(Double(m * scale))
                }
                scale *= 10
            }
        }
    }
}
