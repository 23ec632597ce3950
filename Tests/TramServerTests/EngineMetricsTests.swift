import Testing
import TramEngine
import TramServer

/// The registry behind `/metrics`, fed by hand.
@Suite struct EngineMetricsTests {
    static let names = [
        "tram:num_requests_running", "tram:num_requests_waiting", "tram:kv_cache_usage_perc",
        "tram:prefix_cache_queries_total", "tram:prefix_cache_hits_total", "tram:num_preemptions_total",
        "tram:prompt_tokens_total", "tram:generation_tokens_total", "tram:request_success_total",
        "tram:request_prompt_tokens", "tram:request_generation_tokens", "tram:iteration_tokens_total",
        "tram:time_to_first_token_seconds", "tram:inter_token_latency_seconds", "tram:e2e_request_latency_seconds",
        "tram:request_queue_time_seconds", "tram:request_inference_time_seconds",
        "tram:request_prefill_time_seconds", "tram:request_decode_time_seconds",
    ]

    func lines(_ text: String) -> Set<String> { Set(text.split(separator: "\n").map(String.init)) }

    @Test func startsAtZeroWithEveryMetricAndReason() {
        let text = EngineMetrics(maxModelLen: 512).render(modelName: "m")
        let typeLines = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(typeLines.map(String.init) == Self.names)
        let all = lines(text)
        for reason in ["stop", "length", "abort"] {
            #expect(all.contains(#"tram:request_success_total{finished_reason="\#(reason)",model_name="m"} 0.0"#))
        }
        #expect(all.contains(#"tram:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 0.0"#))
        // vLLM's 1-2-5 bounds up to max_model_len.
        let bounds = text.split(separator: "\n").filter { $0.hasPrefix("tram:request_prompt_tokens_bucket") }
            .map { $0.split(separator: "\"")[1] }
        #expect(bounds == ["1.0", "2.0", "5.0", "10.0", "20.0", "50.0", "100.0", "200.0", "500.0", "+Inf"])
    }

    /// vLLM's spec_decode counters, only with speculative decoding on; per-position counts
    /// labelled by position.
    @Test func speculativeDecodingCounters() {
        #expect(!EngineMetrics(maxModelLen: 512).render(modelName: "m").contains("spec_decode"))
        let metrics = EngineMetrics(maxModelLen: 512, speculativeDecoding: true)
        var statistics = EngineStatistics()
        statistics.specDecodeNumDrafts = 3
        statistics.specDecodeNumDraftTokens = 12
        statistics.specDecodeNumAcceptedTokens = 7
        statistics.specDecodeAcceptedPerPosition = [3, 2, 1, 1]
        metrics.record(statistics, IterationStatistics())
        let all = lines(metrics.render(modelName: "m"))
        #expect(all.contains(#"tram:spec_decode_num_drafts_total{model_name="m"} 3.0"#))
        #expect(all.contains(#"tram:spec_decode_num_draft_tokens_total{model_name="m"} 12.0"#))
        #expect(all.contains(#"tram:spec_decode_num_accepted_tokens_total{model_name="m"} 7.0"#))
        #expect(all.contains(#"tram:spec_decode_num_accepted_tokens_per_pos_total{model_name="m",position="0"} 3.0"#))
        #expect(all.contains(#"tram:spec_decode_num_accepted_tokens_per_pos_total{model_name="m",position="3"} 1.0"#))
    }

    @Test func countsWhatTheEngineReports() {
        let metrics = EngineMetrics(maxModelLen: 512)
        var statistics = EngineStatistics()
        statistics.numRunning = 1
        statistics.numWaiting = 2
        statistics.kvCacheUsage = 0.5
        statistics.prefixCacheQueries = 32
        statistics.prefixCacheHits = 16
        statistics.numPreemptions = 3
        var step = IterationStatistics()
        step.stepTokens = [12, 3]
        step.promptTokens = 10
        step.generationTokens = 4
        step.timesToFirstToken = [0.05]
        step.interTokenLatencies = [0.02, 0.03, 0.2]
        step.finished = [
            FinishedRequestStatistics(reason: .length, promptTokens: 10, generationTokens: 4, e2eLatency: 0.4,
                                      queueTime: 0.001, prefillTime: 0.05, decodeTime: 0.25),
            FinishedRequestStatistics(reason: .abort, promptTokens: 7, generationTokens: 0, e2eLatency: 0.2),
        ]
        metrics.record(statistics, step)
        metrics.record(statistics, IterationStatistics())  // counters accumulate iterations, not statistics
        let all = lines(metrics.render(modelName: "m"))
        for line in [
            #"tram:num_requests_running{model_name="m"} 1.0"#,
            #"tram:num_requests_waiting{model_name="m"} 2.0"#,
            #"tram:kv_cache_usage_perc{model_name="m"} 0.5"#,
            #"tram:prefix_cache_queries_total{model_name="m"} 32.0"#,
            #"tram:prefix_cache_hits_total{model_name="m"} 16.0"#,
            #"tram:num_preemptions_total{model_name="m"} 3.0"#,
            #"tram:prompt_tokens_total{model_name="m"} 10.0"#,
            #"tram:generation_tokens_total{model_name="m"} 4.0"#,
            #"tram:request_success_total{finished_reason="length",model_name="m"} 1.0"#,
            #"tram:request_success_total{finished_reason="abort",model_name="m"} 1.0"#,
            #"tram:request_success_total{finished_reason="stop",model_name="m"} 0.0"#,
            #"tram:iteration_tokens_total_bucket{le="1.0",model_name="m"} 0.0"#,
            #"tram:iteration_tokens_total_bucket{le="8.0",model_name="m"} 1.0"#,
            #"tram:iteration_tokens_total_bucket{le="16.0",model_name="m"} 2.0"#,
            #"tram:iteration_tokens_total_sum{model_name="m"} 15.0"#,
            #"tram:time_to_first_token_seconds_bucket{le="0.04",model_name="m"} 0.0"#,
            #"tram:time_to_first_token_seconds_bucket{le="0.06",model_name="m"} 1.0"#,
            #"tram:inter_token_latency_seconds_bucket{le="0.025",model_name="m"} 1.0"#,
            #"tram:inter_token_latency_seconds_bucket{le="0.05",model_name="m"} 2.0"#,
            #"tram:inter_token_latency_seconds_bucket{le="0.2",model_name="m"} 3.0"#,
            #"tram:inter_token_latency_seconds_count{model_name="m"} 3.0"#,
            #"tram:e2e_request_latency_seconds_bucket{le="0.3",model_name="m"} 1.0"#,
            #"tram:e2e_request_latency_seconds_bucket{le="0.5",model_name="m"} 2.0"#,
            #"tram:e2e_request_latency_seconds_sum{model_name="m"} 0.6000000000000001"#,
            // The aborted request never reached its phases: one observation each, from the other.
            #"tram:request_queue_time_seconds_count{model_name="m"} 1.0"#,
            #"tram:request_prefill_time_seconds_sum{model_name="m"} 0.05"#,
            #"tram:request_decode_time_seconds_sum{model_name="m"} 0.25"#,
            #"tram:request_inference_time_seconds_sum{model_name="m"} 0.3"#,
            #"tram:request_prompt_tokens_sum{model_name="m"} 17.0"#,
            #"tram:request_prompt_tokens_bucket{le="5.0",model_name="m"} 0.0"#,
            #"tram:request_prompt_tokens_bucket{le="10.0",model_name="m"} 2.0"#,
            #"tram:request_generation_tokens_bucket{le="1.0",model_name="m"} 1.0"#,
            #"tram:request_generation_tokens_count{model_name="m"} 2.0"#,
        ] {
            #expect(all.contains(line), "\(line)")
        }
    }
}
