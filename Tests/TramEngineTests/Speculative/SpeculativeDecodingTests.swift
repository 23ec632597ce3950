import Foundation
import Testing
import TramEngine
import TramModels
import TramTestSupport
import TramTokenizer

/// N-gram proposals: the longest recurring suffix, its most recent occurrence, capped.
struct NgramProposerTests {
    @Test func proposesTheContinuationOfTheLongestRecurringSuffix() {
        let p = NgramProposer(numSpeculativeTokens: 3, minN: 1, maxN: 3)
        // Suffix "1 2 3" recurs at 0: propose what followed it.
        #expect(p.propose([1, 2, 3, 4, 5, 6, 9, 1, 2, 3][...]) == [4, 5, 6])
        // Only "3" recurs (n = 1): its most recent earlier occurrence is followed by 8.
        #expect(p.propose([3, 7, 3, 8, 1, 3][...]) == [8, 1, 3])
        // The longer match wins over a more recent shorter one.
        #expect(p.propose([5, 6, 1, 9, 6, 2, 5, 6][...]) == [1, 9, 6])
        // Proposals stop at the end of the sequence and at the limit.
        #expect(p.propose([1, 2, 1, 2][...]) == [1, 2])
        #expect(p.propose([1, 2, 3, 4, 5, 1, 2][...], limit: 1) == [3])
        #expect(p.propose([1, 2, 3, 4, 5, 1, 2][...], limit: 0) == [])
    }

    @Test func proposesNothingWithoutARecurringNgramOfTheAllowedSizes() {
        #expect(NgramProposer(numSpeculativeTokens: 4, minN: 1, maxN: 4).propose([1, 2, 3, 4][...]) == [])
        // "3" recurs, but n-grams shorter than 2 are not allowed.
        #expect(NgramProposer(numSpeculativeTokens: 4, minN: 2, maxN: 4).propose([3, 9, 8, 3][...]) == [])
        #expect(NgramProposer(numSpeculativeTokens: 4, minN: 2, maxN: 4).propose([7, 3][...]) == [])
    }

    @Test func slicesAreReadFromTheirOwnStart() {
        let tokens: [Int32] = [9, 9, 9, 1, 2, 8, 1, 2]
        #expect(NgramProposer(numSpeculativeTokens: 2, minN: 2, maxN: 2).propose(tokens[3...]) == [8, 1])
    }
}

struct SpeculativeConfigTests {
    @Test func readsVLLMsKeys() throws {
        let c = try SpeculativeConfig(json: #"{"method": "ngram", "num_speculative_tokens": 5, "prompt_lookup_max": 4, "prompt_lookup_min": 2}"#)
        #expect(c == SpeculativeConfig(numSpeculativeTokens: 5, promptLookupMax: 4, promptLookupMin: 2))
        // Either bound alone sets both, as in vLLM; disable_by_batch_size is read.
        let d = try SpeculativeConfig(json: #"{"method": "ngram", "num_speculative_tokens": 3, "prompt_lookup_max": 3, "disable_by_batch_size": 2}"#)
        #expect(d == SpeculativeConfig(numSpeculativeTokens: 3, promptLookupMax: 3, promptLookupMin: 3, disableByBatchSize: 2))
        // A draft model: "method" inferred from "model", as vLLM does, or given.
        let e = try SpeculativeConfig(json: #"{"model": "qwen2.5-coder-0.5b-instruct", "num_speculative_tokens": 4}"#)
        #expect(e.method == .draftModel("qwen2.5-coder-0.5b-instruct") && e.numSpeculativeTokens == 4)
        let f = try SpeculativeConfig(json: #"{"method": "draft_model", "model": "/m/draft.gguf", "num_speculative_tokens": 2}"#)
        #expect(f.method == .draftModel("/m/draft.gguf"))
    }

    @Test(arguments: [
        (#"[1]"#, "JSON object"),
        (#"{"method": "ngram"#, "not valid JSON"),
        (#"{"num_speculative_tokens": 2}"#, "\"method\""),
        (#"{"method": "eagle", "num_speculative_tokens": 2}"#, "not supported"),
        (#"{"method": 3, "num_speculative_tokens": 2}"#, "must be a string"),
        (#"{"method": "ngram", "model": "x.gguf", "num_speculative_tokens": 2}"#, "takes no"),
        (#"{"method": "draft_model", "num_speculative_tokens": 2}"#, "needs a"),
        (#"{"model": "", "num_speculative_tokens": 2}"#, "path or alias"),
        (#"{"model": "x.gguf", "num_speculative_tokens": 2, "prompt_lookup_max": 3}"#, "is for method"),
        (#"{"method": "ngram"}"#, "required"),
        (#"{"method": "ngram", "num_speculative_tokens": 2.5}"#, "integer"),
        (#"{"method": "ngram", "num_speculative_tokens": true}"#, "integer"),
        (#"{"method": "ngram", "num_speculative_tokens": 0}"#, "between 1 and 16"),
        (#"{"method": "ngram", "num_speculative_tokens": 2, "prompt_lookup_max": 1, "prompt_lookup_min": 3}"#, "at least prompt_lookup_min"),
        (#"{"method": "ngram", "num_speculative_tokens": 2, "draft_tensor_parallel_size": 1}"#, "unknown key(s) draft_tensor_parallel_size"),
    ])
    func refusesWhatItCannotDo(json: String, message: String) {
        #expect {
            _ = try SpeculativeConfig(json: json)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}

/// Verification's acceptance rule keeps the sampling distribution exact.
struct SpeculativeVerificationTests {
    /// For a row with top-k and temperature, proposing a likely, an unlikely and an impossible
    /// token: the tokens `verify` returns follow `probabilities` (chi-square, 40,000 draws, far
    /// beyond the 0.1% critical value when they do not), and greedy accepts exactly the argmax.
    @Test(arguments: [0, 3, 7])
    func acceptOrResampleHasTheTargetDistribution(draft: Int) {
        let logits: [Float] = [2.0, 0.5, 1.5, 1.0, -1.0, 0.0, 1.2, -3.0]
        var p = SamplingParameters(temperature: 0.8, topK: 6, seed: 11)
        p.ignoreEOS = true
        var sampler = Sampler(parameters: p)
        let target = logits.withUnsafeBufferPointer { sampler.probabilities($0) }
        #expect(target[7] == 0, "token 7 is cut by top-k")
        var workspace = SamplerWorkspace()
        let draws = 40_000
        var counts = [Int](repeating: 0, count: logits.count)
        var accepted = 0
        logits.withUnsafeBufferPointer { row in
            for _ in 0..<draws {
                let (token, ok) = sampler.verify(draft: draft, row, promptTokenIDs: [], outputTokenIDs: [], workspace: &workspace)
                counts[token.tokenID] += 1
                if ok { accepted += 1 }
                #expect(ok == (token.tokenID == draft))
            }
        }
        var chiSquare = 0.0
        var degrees = -1
        for (i, q) in target.enumerated() {
            if q == 0 {
                #expect(counts[i] == 0, "token \(i) has probability 0")
                continue
            }
            let expected = Double(q) * Double(draws)
            chiSquare += (Double(counts[i]) - expected) * (Double(counts[i]) - expected) / expected
            degrees += 1
        }
        #expect(degrees == 5)
        #expect(chiSquare < 20.5, "chi-square \(chiSquare) with 5 degrees of freedom (0.1% critical value 20.5)")
        // The acceptance rate is p(draft).
        #expect(abs(Double(accepted) / Double(draws) - Double(target[draft])) < 0.01)
    }

    @Test func greedyAcceptsOnlyTheArgmax() {
        let logits: [Float] = [0.1, 3, 2, 3]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0))
        var workspace = SamplerWorkspace()
        logits.withUnsafeBufferPointer { row in
            let hit = sampler.verify(draft: 1, row, promptTokenIDs: [], outputTokenIDs: [], workspace: &workspace)
            #expect(hit.accepted && hit.token.tokenID == 1)
            // Ties go to the lowest id, as in `sample`: 3 is rejected for 1.
            let miss = sampler.verify(draft: 3, row, promptTokenIDs: [], outputTokenIDs: [], workspace: &workspace)
            #expect(!miss.accepted && miss.token.tokenID == 1)
        }
    }
}

/// Speculative decoding through the engine with the real model.
@Suite(.serialized) struct SpeculativeEngineTests {
    static let ngram = SpeculativeConfig(numSpeculativeTokens: 4, promptLookupMax: 3, promptLookupMin: 1)

    /// Runs every request to the end, checking the scheduler's block invariants after each
    /// step; returns each request's tokens.
    func run(_ core: EngineCore, _ requests: [(String, EngineRequest)]) throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for (id, r) in requests { try core.add(r, id: id) }
        var steps = 0
        while core.hasUnfinishedRequests {
            for o in try core.step() { out[o.requestID, default: []] += o.output.tokenIDs }
            checkInvariants(core.scheduler)
            steps += 1
            #expect(steps < 5_000)
            if steps >= 5_000 { break }
        }
        #expect(core.stats.kvCacheUsage == 0)
        return out
    }

    func prompts(_ model: LoadedModel) -> [[Int]] {
        let code = """
            def add(a, b):
                return a + b

            def sub(a, b):
                return a - b

            def mul(a, b):
                return a * b
            """
        return [
            model.tokenizer.encode("<|im_start|>user\nRepeat this code exactly:\n\(code)<|im_end|>\n<|im_start|>assistant\n"),
            model.tokenizer.encode("One, two, three, four. One, two, three, four. One, two,"),
            model.tokenizer.encode("The capital of France is"),
        ]
    }

    func greedy(_ maxTokens: Int) -> SamplingParameters {
        var p = SamplingParameters(temperature: 0, maxTokens: maxTokens)
        p.ignoreEOS = true
        return p
    }

    /// Greedy output is token for token the same with and without n-gram speculation, in one
    /// batch of mixed requests (a sampled one beside the greedy ones), and proposals are made
    /// and accepted; logprobs come per token.
    @Test func greedyOutputIsIdenticalWithSpeculation() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompts = prompts(model)
            var sampled = SamplingParameters(temperature: 0.9, seed: 5, maxTokens: 40)
            sampled.ignoreEOS = true
            var withLogprobs = greedy(48)
            withLogprobs.logprobs = 2
            let requests = [
                ("code", EngineRequest(promptTokenIDs: prompts[0], parameters: withLogprobs)),
                ("count", EngineRequest(promptTokenIDs: prompts[1], parameters: greedy(40))),
                ("france", EngineRequest(promptTokenIDs: prompts[2], parameters: greedy(30))),
                ("sampled", EngineRequest(promptTokenIDs: prompts[2], parameters: sampled)),
            ]
            let base = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            var spec = base
            spec.speculativeConfig = Self.ngram
            spec.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            let plainCore = try EngineCore(model: model, configuration: base)
            let specCore = try EngineCore(model: model, configuration: spec)
            let plain = try run(plainCore, requests)
            let fast = try run(specCore, requests)
            for id in ["code", "count", "france"] { #expect(fast[id] == plain[id], "\(id)") }
            #expect(fast["code"]?.count == 48 && fast["count"]?.count == 40 && fast["france"]?.count == 30)
            #expect(fast["sampled"]?.count == 40)
            let s = specCore.statistics
            #expect(s.specDecodeNumDrafts > 0 && s.specDecodeNumAcceptedTokens > 0)
            #expect(s.specDecodeNumAcceptedTokens <= s.specDecodeNumDraftTokens)
            #expect(s.specDecodeAcceptedPerPosition.reduce(0, +) == s.specDecodeNumAcceptedTokens)
            #expect(specCore.statistics.steps < plainCore.statistics.steps, "accepted proposals save steps")
            #expect(s.generationTokens == plainCore.statistics.generationTokens)
            #expect(plainCore.statistics.specDecodeNumDrafts == 0)
        }
    }

    /// A KV pool too small for everyone: preemption with proposals outstanding, rejected slots
    /// trimmed, prefix caching on; every greedy output still equals the one without speculation.
    @Test func preemptionAndRejectionsKeepOutputsAndBlocksExact() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let stories = (0..<6).map { i in
                model.tokenizer.encode("Story \(i): the cat sat on the mat. The cat sat on the mat. The dog sat on the")
            }
            let requests = stories.enumerated().map { ("r\($0.offset)", EngineRequest(promptTokenIDs: $0.element, parameters: greedy(40))) }
            let bytesPerBlock = 16 * KVCache.bytesPerToken(numLayers: model.model.numLayers, numKVHeads: model.model.numKVHeads,
                                                           headDim: model.model.headDim, dtype: model.model.defaultKVCacheDType)
            var config = EngineConfiguration(maxModelLen: 128, maxNumBatchedTokens: 64, kvCacheMemory: 12 * bytesPerBlock, threads: 2)
            let plain = try run(EngineCore(model: model, configuration: config), requests)
            config.speculativeConfig = SpeculativeConfig(numSpeculativeTokens: 6, promptLookupMax: 4, promptLookupMin: 1, disableByBatchSize: 8)
            config.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            let core = try EngineCore(model: model, configuration: config)
            let fast = try run(core, requests)
            #expect(core.stats.numPreemptions > 0)
            #expect(core.statistics.specDecodeNumDrafts > 0)
            #expect(core.statistics.specDecodeNumAcceptedTokens < core.statistics.specDecodeNumDraftTokens, "some proposals are rejected")
            for (id, _) in requests { #expect(fast[id] == plain[id], "\(id)") }
        }
    }

    /// No proposals while more requests run than `disable_by_batch_size`.
    @Test func noProposalsAboveTheBatchSizeLimit() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompt = prompts(model)[1]
            var config = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            config.speculativeConfig = SpeculativeConfig(numSpeculativeTokens: 4, promptLookupMax: 3, promptLookupMin: 1, disableByBatchSize: 2)
            config.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            let core = try EngineCore(model: model, configuration: config)
            _ = try run(core, (0..<3).map { ("r\($0)", EngineRequest(promptTokenIDs: prompt + [$0], parameters: greedy(8))) })
            // Three run together to the end (same length), so none ever proposes.
            #expect(core.statistics.specDecodeNumDrafts == 0)
            _ = try run(core, [("alone", EngineRequest(promptTokenIDs: prompt, parameters: greedy(16)))])
            #expect(core.statistics.specDecodeNumDrafts > 0)
        }
    }
}

/// Draft-model speculation through the engine: the draft's KV cache follows the target's block
/// tables through acceptance, rejection, trimming and preemption.
@Suite(.serialized) struct DraftModelSpeculationTests {
    let engine = SpeculativeEngineTests()

    func draftConfig(_ k: Int, disableByBatchSize: Int = 8) -> SpeculativeConfig {
        SpeculativeConfig(method: .draftModel("draft"), numSpeculativeTokens: k, disableByBatchSize: disableByBatchSize)
    }

    /// The target drafting for itself: with batch-invariant logits its greedy proposal is the
    /// target's own argmax, so every proposal must be accepted — any draft KV that was stale,
    /// misplaced or lost with a trimmed block would show as a rejection. Outputs equal plain
    /// decoding, and a sampled request beside them still finishes with its length.
    @Test func theTargetAsItsOwnDraftAcceptsEveryGreedyProposal() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let prompts = engine.prompts(model)
            let greedyRequests = [
                ("code", EngineRequest(promptTokenIDs: prompts[0], parameters: engine.greedy(45))),
                ("count", EngineRequest(promptTokenIDs: prompts[1], parameters: engine.greedy(37))),
                ("france", EngineRequest(promptTokenIDs: prompts[2], parameters: engine.greedy(30))),
            ]
            let base = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            var spec = base
            spec.speculativeConfig = draftConfig(4)
            spec.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            let plainCore = try EngineCore(model: model, configuration: base)
            let plain = try engine.run(plainCore, greedyRequests)
            let core = try EngineCore(model: model, configuration: spec, draft: model)
            let fast = try engine.run(core, greedyRequests)
            for (id, _) in greedyRequests { #expect(fast[id] == plain[id], "\(id)") }
            let s = core.statistics
            #expect(s.specDecodeNumDrafts > 0)
            #expect(s.specDecodeNumAcceptedTokens == s.specDecodeNumDraftTokens, "a draft identical to the target is always right")
            // 4 proposals and a bonus per step: about a fifth of the plain steps.
            #expect(s.steps * 3 < plainCore.statistics.steps, "\(s.steps) steps against \(plainCore.statistics.steps)")

            var sampled = SamplingParameters(temperature: 0.9, seed: 5, maxTokens: 40)
            sampled.ignoreEOS = true
            let mixed = try engine.run(EngineCore(model: model, configuration: spec, draft: model),
                                       greedyRequests + [("sampled", EngineRequest(promptTokenIDs: prompts[2], parameters: sampled))])
            for (id, _) in greedyRequests { #expect(mixed[id] == plain[id], "\(id) beside a sampled request") }
            #expect(mixed["sampled"]?.count == 40)
        }
    }

    /// Another draft (the same model through its Hugging Face f32 copy: other numerics, so some
    /// proposals fail) under a KV pool too small for everyone: preemptions with proposals and
    /// draft KV outstanding, prefix caching on, rejected slots trimmed. Greedy outputs equal
    /// plain decoding and every block comes back.
    @Test func preemptionAndRejectionsWithADraftKeepOutputsExact() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let draft = try ModelLoader.load(path: TestResources.realHFModelPath())
            let stories = (0..<6).map { i in
                model.tokenizer.encode("Story \(i): the cat sat on the mat. The cat sat on the mat. The dog sat on the")
            }
            let requests = stories.enumerated().map { ("r\($0.offset)", EngineRequest(promptTokenIDs: $0.element, parameters: engine.greedy(40))) }
            let dtype = model.model.defaultKVCacheDType
            let perToken = [model.model, draft.model].reduce(0) {
                $0 + KVCache.bytesPerToken(numLayers: $1.numLayers, numKVHeads: $1.numKVHeads, headDim: $1.headDim, dtype: dtype)
            }
            var config = EngineConfiguration(maxModelLen: 128, maxNumBatchedTokens: 64, kvCacheMemory: 12 * 16 * perToken, threads: 2)
            config.kvCacheDType = dtype
            let plain = try engine.run(EngineCore(model: model, configuration: config), requests)
            config.speculativeConfig = draftConfig(5)
            config.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            let core = try EngineCore(model: model, configuration: config, draft: draft)
            #expect(core.kvSizing.numBlocks == 12, "the draft's K and V are charged to the same blocks")
            let fast = try engine.run(core, requests)
            #expect(core.stats.numPreemptions > 0)
            #expect(core.statistics.specDecodeNumAcceptedTokens > 0)
            for (id, _) in requests { #expect(fast[id] == plain[id], "\(id)") }
        }
    }

    /// A draft of another vocabulary, a draft config without a draft, a draft without a config.
    @Test func refusesADraftThatCannotDraft() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            let gemma = try ModelLoader.load(path: TestResources.aliasModelPath("gemma-3-270m"))
            var config = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            config.speculativeConfig = draftConfig(3)
            config.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            #expect { _ = try EngineCore(model: model, configuration: config, draft: gemma) } throws: { "\($0)".contains("vocabulary") }
            // SmolLM2 reaches 8192 positions: too few to draft for Gemma 3 at its full length.
            var long = config
            long.maxModelLen = gemma.model.maxPositions
            #expect(model.model.maxPositions < gemma.model.maxPositions)
            #expect { _ = try EngineCore(model: gemma, configuration: long, draft: model) } throws: { "\($0)".contains("positions, fewer than") }
            #expect { _ = try EngineCore(model: model, configuration: config) } throws: { "\($0)".contains("none was loaded") }
            config.speculativeConfig = SpeculativeEngineTests.ngram
            config.speculationPolicy = .free(maxTokens: 8)  // timing-independent step counts
            #expect { _ = try EngineCore(model: model, configuration: config, draft: model) } throws: { "\($0)".contains("without a draft-model") }
        }
    }
}

/// Proposal lengths from verification costs and acceptance.
struct SpeculationPolicyTests {
    /// The 1.5B Q4_K on a 2-core AVX2 CPU (`tram bench verify`): rows cost nearly their count.
    static let computeBound = SpeculationPolicy(verifyCost: [1, 1.34, 1.84, 2.30, 3.09, 3.51])

    @Test func longerProposalsOnlyWhereRowsAreCheap() {
        let free = SpeculationPolicy.free(maxTokens: 5)
        #expect(free.proposalLength(acceptance: 0.3, limit: 5) == 5)
        #expect(free.proposalLength(acceptance: 0.9, limit: 3) == 3, "the limit caps it")
        // Compute-bound: at full acceptance 4 rows (3 proposals) give the most tokens per step
        // time (4 / 2.30 against 6 / 3.51); at α = 0.5 one proposal barely pays; at 0.3 none.
        let p = Self.computeBound
        #expect(p.proposalLength(acceptance: 1, limit: 5) == 3)
        #expect(p.proposalLength(acceptance: 0.5, limit: 5) == 1)
        #expect(p.proposalLength(acceptance: 0.3, limit: 5) == 0)
        #expect(p.proposalLength(acceptance: 1, limit: 0) == 0)
        // Drafting costs count too: a draft step at 0.4× one target row makes proposals dearer.
        var withDraft = p
        withDraft.draftCost = 0.4
        #expect(withDraft.proposalLength(acceptance: 0.6, limit: 5) == 0)
        #expect(withDraft.proposalLength(acceptance: 1, limit: 5) >= 1)
    }

    /// Rejections lower a request's rate, acceptances raise it, idling returns it to the prior.
    @Test func acceptanceFollowsRecentProposals() {
        var a = AcceptanceEstimate()
        #expect(abs(a.rate - 2.0 / 3.0) < 1e-12)
        for _ in 0..<4 { a.record(accepted: 0, proposed: 3) }
        #expect(a.rate < 0.4)
        let low = a.rate
        for _ in 0..<30 { a.idle() }
        #expect(a.rate > low && abs(a.rate - 2.0 / 3.0) < 0.02)
        for _ in 0..<6 { a.record(accepted: 5, proposed: 5) }
        #expect(a.rate > 0.9)
    }

    /// Measured at start-up when not given: one cost per row count up to k + 1, starting at 1
    /// and never falling; a draft's step cost is measured beside it.
    @Test func costsAreMeasuredAtStartUp() throws {
        try ModelTestLock.run {
            let model = try SequenceGeneratorTests.model.get()
            var config = EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2)
            config.speculativeConfig = SpeculativeConfig(method: .draftModel("draft"), numSpeculativeTokens: 3)
            let core = try EngineCore(model: model, configuration: config, draft: model)
            let policy = try #require(core.speculationPolicy)
            #expect(policy.verifyCost.count == 4 && policy.verifyCost[0] == 1)
            #expect(zip(policy.verifyCost, policy.verifyCost.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(policy.draftCost > 0)
            #expect(core.kvSizing.numBlocks == core.scheduler.kvCache.pool.numFreeBlocks, "measuring holds no blocks")
        }
    }
}
