import Foundation
import Testing
import TramEngine
import TramKernels
import TramModels
import TramTestSupport
import TramTokenizer

/// The engine with the real model: many requests at once through the scheduler, the paged
/// KV cache and the sampler, compared with what each request produces alone.
@Suite(.serialized) struct EngineCoreTests {
    static let float32: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath(), precision: .float32) }

    struct Collected {
        var tokens: [Int: [Int]] = [:]
        var text: [Int: String] = [:]
        var finish: [Int: Finish] = [:]
        var promptLogprobs: [TokenLogprobs?]?
        var cached = 0
    }

    /// Adds every request, steps until all finish, and returns what each produced.
    func run(_ core: EngineCore, _ requests: [(String, EngineRequest)], abortAfter: [String: Int] = [:]) throws -> [String: Collected] {
        var out: [String: Collected] = [:]
        for (id, r) in requests { try core.add(r, id: id) }
        var steps = 0
        while core.hasUnfinishedRequests {
            steps += 1
            for o in try core.step() {
                var c = out[o.requestID] ?? Collected()
                c.tokens[o.output.index, default: []] += o.output.tokenIDs
                c.text[o.output.index, default: ""] += o.output.text
                if let f = o.output.finish { c.finish[o.output.index] = f }
                if let p = o.output.promptLogprobs { c.promptLogprobs = p }
                c.cached = max(c.cached, o.output.cachedPromptTokenCount)
                out[o.requestID] = c
            }
            for (id, after) in abortAfter where steps == after { core.abort(id) }
            #expect(steps < 10_000)
        }
        return out
    }

    func greedy(_ maxTokens: Int, ignoreEOS: Bool = false) -> SamplingParameters {
        var p = SamplingParameters(temperature: 0, maxTokens: maxTokens)
        p.ignoreEOS = ignoreEOS
        return p
    }

    /// The golden fixtures through the engine: ten prompts at once, prefill chunked into 16-token
    /// pieces, f32 path: every greedy continuation equals the numpy reference's.
    @Test func goldenContinuationsThroughTheEngine() throws {
        try ModelTestLock.run {
            let fixture = LogitsFixture.shared
            let core = try EngineCore(model: Self.float32.get(), configuration: EngineConfiguration(
                maxModelLen: 256, maxNumBatchedTokens: 16, kvCacheMemory: 64 << 20, threads: 2))
            let requests = fixture.prompts.map { p in (p.name, EngineRequest(promptTokenIDs: p.prompt_ids, parameters: greedy(32, ignoreEOS: true))) }
            let results = try run(core, requests)
            for p in fixture.prompts {
                #expect(results[p.name]?.tokens[0] == p.continuation_ids, "\(p.name)")
                #expect(results[p.name]?.finish[0]?.reason == .length)
            }
            #expect(core.stats.kvCacheUsage == 0)
        }
    }

    /// A pool too small for everyone forces preemption by recompute; every request still ends
    /// with exactly the text it produces alone.
    @Test func preemptionKeepsEveryOutputExact() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompts = (0..<8).map { i in model.tokenizer.encode("Story \(i): once upon a time, in a land far away, there lived") }
            let alone = try prompts.map { prompt in
                try SequenceGenerator(model: model, context: SequenceGeneratorTests.context, maxModelLength: 128)
                    .generate(prompt: prompt, parameters: greedy(40, ignoreEOS: true)).tokenIDs
            }
            // 8 requests × ~55 tokens need ~32 blocks of 16; give the cache 10.
            let bytesPerBlock = 16 * KVCache.bytesPerToken(numLayers: model.model.numLayers, numKVHeads: model.model.numKVHeads,
                                                           headDim: model.model.headDim, dtype: model.model.defaultKVCacheDType)
            let core = try EngineCore(model: model, configuration: EngineConfiguration(
                maxModelLen: 128, maxNumBatchedTokens: 64, kvCacheMemory: 10 * bytesPerBlock, threads: 2))
            let results = try run(core, prompts.enumerated().map { ("r\($0.offset)", EngineRequest(promptTokenIDs: $0.element, parameters: greedy(40, ignoreEOS: true))) })
            #expect(core.stats.numPreemptions > 0)
            for i in 0..<8 {
                #expect(results["r\(i)"]?.tokens[0] == alone[i], "request \(i)")
                #expect(results["r\(i)"]?.text[0] == model.tokenizer.decode(alone[i], skipSpecialTokens: true))
            }
            #expect(core.stats.kvCacheUsage == 0)
        }
    }

    /// A second request with the same system prompt reuses its cached blocks and answers the same.
    @Test func prefixCacheHitGivesIdenticalOutput() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let system = "<|im_start|>system\nYou are a careful assistant who answers in one short sentence, citing no sources and using plain words.<|im_end|>\n"
            let prompt = model.tokenizer.encode(system + "<|im_start|>user\nWhat is the capital of Germany?<|im_end|>\n<|im_start|>assistant\n")
            let cached = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2))
            let first = try run(cached, [("a", EngineRequest(promptTokenIDs: prompt, parameters: greedy(24)))])
            let second = try run(cached, [("b", EngineRequest(promptTokenIDs: prompt, parameters: greedy(24)))])
            #expect(first["a"]?.cached == 0)
            #expect((second["b"]?.cached ?? 0) >= 16 * ((prompt.count - 1) / 16))
            #expect(cached.stats.prefixCacheHits > 0)
            let uncached = try EngineCore(model: model, configuration: EngineConfiguration(
                maxModelLen: 256, kvCacheMemory: 32 << 20, enablePrefixCaching: false, threads: 2))
            let plain = try run(uncached, [("c", EngineRequest(promptTokenIDs: prompt, parameters: greedy(24)))])
            #expect(second["b"]?.tokens[0] == first["a"]?.tokens[0])
            #expect(plain["c"]?.tokens[0] == first["a"]?.tokens[0])
            #expect(first["a"]?.text[0] == "The capital of Germany is Berlin.")
            #expect(uncached.stats.prefixCacheHits == 0)
        }
    }

    /// Aborting mid-generation frees every block at once; the others continue unharmed.
    @Test func abortFreesEverything() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2))
            let prompt = model.tokenizer.encode("Write a long story about a dragon.")
            let results = try run(core, [
                ("keep", EngineRequest(promptTokenIDs: prompt, parameters: greedy(20, ignoreEOS: true))),
                ("drop", EngineRequest(promptTokenIDs: prompt + [11], parameters: greedy(200, ignoreEOS: true))),
            ], abortAfter: ["drop": 5])
            #expect(results["keep"]?.tokens[0]?.count == 20)
            #expect((results["drop"]?.tokens[0]?.count ?? 0) < 10)
            #expect(core.stats.kvCacheUsage == 0)
            #expect(!core.hasUnfinishedRequests)
        }
    }

    /// Seeded sampling gives the same text alone and beside other requests; n > 1 gives n
    /// samples sharing the prompt.
    @Test func seededSamplingAndParallelSamples() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompt = model.tokenizer.encode("The best thing about summer is")
            var p = SamplingParameters(temperature: 1, topP: 0.95, seed: 7, maxTokens: 16)
            p.ignoreEOS = true
            let config = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            let alone = try run(EngineCore(model: model, configuration: config), [("s", EngineRequest(promptTokenIDs: prompt, parameters: p))])
            var others: [(String, EngineRequest)] = (0..<5).map { i in
                var q = p
                q.seed = UInt64(100 + i)
                return ("o\(i)", EngineRequest(promptTokenIDs: model.tokenizer.encode("Tell me about \(i) cats"), parameters: q))
            }
            others.insert(("s", EngineRequest(promptTokenIDs: prompt, parameters: p)), at: 2)
            let together = try run(EngineCore(model: model, configuration: config), others)
            #expect(alone["s"]?.tokens[0] == together["s"]?.tokens[0])

            var n3 = p
            n3.n = 3
            let parallel = try run(EngineCore(model: model, configuration: config), [("n", EngineRequest(promptTokenIDs: prompt, parameters: n3))])
            let samples = try #require(parallel["n"])
            #expect(Set(samples.tokens.keys) == [0, 1, 2])
            #expect(samples.tokens.values.allSatisfy { $0.count == 16 })
            #expect(samples.tokens[0] == alone["s"]?.tokens[0])
            #expect(Set(samples.tokens.values.map { $0 }).count > 1)
            #expect(samples.finish.count == 3)
        }
    }

    /// Prompt logprobs: one entry per prompt token after the first, from teacher forcing.
    @Test func promptLogprobsCoverThePrompt() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompt = model.tokenizer.encode("The capital of France is Paris, and the capital of Italy is Rome.")
            var p = greedy(2)
            p.promptLogprobs = 2
            let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 256, maxNumBatchedTokens: 8, kvCacheMemory: 32 << 20, threads: 2))
            let result = try #require(try run(core, [("p", EngineRequest(promptTokenIDs: prompt, parameters: p))])["p"])
            let logprobs = try #require(result.promptLogprobs)
            #expect(logprobs.count == prompt.count)
            #expect(logprobs[0] == nil)
            for (i, entry) in logprobs.enumerated().dropFirst() {
                #expect(entry?.tokenID == prompt[i])
                #expect((entry?.logprob ?? 1) <= 0)
                #expect(entry?.top.count == 2)
            }
        }
    }

    @Test func refusesRequestsThatCanNeverRun() throws {
        let model = try SequenceGeneratorTests.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 64, kvCacheMemory: 8 << 20, threads: 1))
        #expect(throws: EngineError.self) { try core.add(EngineRequest(promptTokenIDs: Array(repeating: 5, count: 64), parameters: greedy(1)), id: "long") }
        #expect(throws: EngineError.self) { try core.add(EngineRequest(promptTokenIDs: [], parameters: greedy(1)), id: "empty") }
        #expect(throws: EngineError.self) { try core.add(EngineRequest(promptTokenIDs: [49152], parameters: greedy(1)), id: "vocab") }
        #expect(throws: EngineError.self) { try core.add(EngineRequest(promptTokenIDs: [1, 2], parameters: greedy(63)), id: "room") }
        #expect(throws: EngineError.self) { try core.add(EngineRequest(promptTokenIDs: [1, 2], parameters: SamplingParameters(temperature: -1)), id: "temp") }
        #expect(throws: EngineError.self) {
            try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 8192, kvCacheMemory: 1 << 20, threads: 1))
        }
        #expect(!core.hasUnfinishedRequests)
    }
}
