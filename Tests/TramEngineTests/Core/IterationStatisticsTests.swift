import Testing
import TramEngine
import TramModels
import TramTestSupport
import TramTokenizer

/// The per-step and per-request statistics behind `/metrics`, from the engine with the real model.
@Suite(.serialized) struct IterationStatisticsTests {
    func greedy(_ maxTokens: Int, ignoreEOS: Bool = true, stop: [String] = []) -> SamplingParameters {
        var p = SamplingParameters(temperature: 0, maxTokens: maxTokens)
        p.ignoreEOS = ignoreEOS
        p.stop = stop
        return p
    }

    /// Three requests arriving together: one runs to its length, one meets a stop string, one is
    /// aborted after three steps. Each finishes once with its reason and the tokens it produced,
    /// and the steps' token counts add up to the prompts plus everything generated.
    @Test func stepsRecordWhatEachRequestDid() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2))
            core.collectsIterationStatistics = true
            let story = model.tokenizer.encode("Write a long story about a dragon.")
            let capital = model.tokenizer.encode("The capital of France is")
            let arrival = ContinuousClock.now
            let requests: [(String, [Int], SamplingParameters)] = [
                ("length", story, greedy(6)),
                ("stop", capital, greedy(16, stop: [" Paris"])),
                ("abort", story + [11], greedy(100)),
            ]
            for (id, prompt, p) in requests {
                try core.add(EngineRequest(promptTokenIDs: prompt, parameters: p, arrivalTime: arrival), id: id)
            }
            var produced: [String: Int] = [:]
            var steps = 0
            while core.hasUnfinishedRequests {
                steps += 1
                for o in try core.step() { produced[o.requestID, default: 0] += o.output.tokenIDs.count }
                if steps == 3 { core.abort("abort") }
                #expect(steps < 100)
            }
            let stats = core.takeIterationStatistics()

            #expect(stats.stepTokens.count == steps)
            let prompts = requests.reduce(0) { $0 + $1.1.count }
            let generated = produced.values.reduce(0, +)
            #expect(stats.generationTokens == generated)
            #expect(stats.promptTokens == prompts)
            // Nothing was cached (no two prompts share a full block), so every prompt token was computed.
            #expect(stats.stepTokens.reduce(0, +) == prompts + generated)
            #expect(stats.timesToFirstToken.count == 3)
            #expect(stats.interTokenLatencies.count == generated - 3)
            #expect(stats.interTokenLatencies.allSatisfy { $0 > 0 })

            let byReason = Dictionary(grouping: stats.finished, by: \.reason)
            #expect(stats.finished.count == 3 && byReason.count == 3)
            for (id, prompt, _) in requests {
                let reason = FinishReason(rawValue: id)!
                let r = try #require(byReason[reason]?.first, "\(id)")
                #expect(r.promptTokens == prompt.count)
                #expect(r.generationTokens == produced[id], "\(id)")
                let (queue, prefill, decode) = (try #require(r.queueTime), try #require(r.prefillTime), try #require(r.decodeTime))
                #expect(queue >= 0 && prefill > 0 && decode >= 0)
                #expect(queue + prefill + decode <= r.e2eLatency + 1e-9, "\(id)")
                // All arrived together and got their first token in the first step.
                #expect(stats.timesToFirstToken.allSatisfy { $0 <= r.e2eLatency }, "\(id)")
            }
            #expect(byReason[.length]?.first?.generationTokens == 6)
            #expect((byReason[.abort]?.first?.generationTokens ?? 0) == 3)
            #expect(core.takeIterationStatistics().stepTokens.isEmpty)
        }
    }

    /// A request aborted before it was ever scheduled has no phases but still finishes as an abort.
    @Test func abortBeforeSchedulingHasOnlyItsLatency() throws {
        let model = try SequenceGeneratorTests.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 64, kvCacheMemory: 8 << 20, threads: 1))
        core.collectsIterationStatistics = true
        try core.add(EngineRequest(promptTokenIDs: [1, 2, 3], parameters: greedy(4)), id: "gone")
        core.abort("gone")
        let stats = core.takeIterationStatistics()
        #expect(stats.stepTokens.isEmpty && stats.promptTokens == 0)
        let r = try #require(stats.finished.first)
        #expect(stats.finished.count == 1)
        #expect(r.reason == .abort && r.generationTokens == 0 && r.promptTokens == 3 && r.e2eLatency >= 0)
        #expect(r.queueTime == nil && r.prefillTime == nil && r.decodeTime == nil)
    }

    /// Off by default: a core nobody drains keeps nothing.
    @Test func collectsNothingUnlessAsked() throws {
        let model = try SequenceGeneratorTests.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 64, kvCacheMemory: 8 << 20, threads: 1))
        try core.add(EngineRequest(promptTokenIDs: [1, 2, 3], parameters: greedy(4)), id: "a")
        core.abort("a")
        #expect(core.takeIterationStatistics().finished.isEmpty)
    }
}
