import Foundation
public import TramKernels
public import TramModels
import TramTokenizer

/// The synchronous engine: `step() = schedule → execute → sample → update`, owned by one thread
/// (`EngineLoop`'s). It connects the pure scheduler, the model runner, the sampler and the
/// per-request detokenizers, and is the only place that knows all four.
///
/// A request with `n > 1` becomes `n` scheduler requests (`id`, `id#1`, …) with the same prompt;
/// the prefix cache shares their full prompt blocks. Outputs are reported under the parent id
/// with the sample's index, and the parent finishes when its last sample does.
public final class EngineCore: EngineCoreProtocol {
    public let model: LoadedModel
    public let configuration: EngineConfiguration
    public let maxModelLen: Int
    public let kvSizing: KVCacheSizing
    /// The configuration's limits, with the total prompt tokens of a request capped at what the
    /// KV cache holds: what callers that split requests into prompts check against.
    public let requestLimits: RequestLimits
    package internal(set) var scheduler: Scheduler
    private let runner: ModelRunner
    /// The draft model's proposer, when `--speculative-config` names one.
    let draftProposer: DraftModelProposer?
    /// How long proposals should be here (see `SpeculationPolicy`); nil without speculation.
    public let speculationPolicy: SpeculationPolicy?
    /// Per decoding request, how its recent proposals fared.
    var acceptance: [RequestID: AcceptanceEstimate] = [:]
    var batchSampler = BatchSampler()
    /// Logit rows gathered for sampling when they are not the first rows of the step's logits.
    var gatheredRows: [Float] = []
    var samples: [RequestID: SampleState] = [:]
    var parents: [String: ParentState] = [:]
    private var seedCounter: UInt64
    public internal(set) var statistics = EngineStatistics()
    /// Whether steps and aborts record `IterationStatistics` until `takeIterationStatistics()`
    /// drains them. Off by default, since undrained records would only grow; turn it on before
    /// adding requests (a metrics endpoint does, draining after every step).
    public var collectsIterationStatistics = false
    var iteration = IterationStatistics()

    /// Per scheduler request: how to sample it and how to turn its tokens into text.
    ///
    /// A class, so a step changes it in place: as a struct in `samples`, each access went through
    /// the dictionary's accessor coroutine, whose frame for a value this size is heap-allocated
    /// (several mallocs per request per step), and a copy taken out made the next append copy
    /// the request's token and text arrays.
    final class SampleState {
        let parent: String
        let index: Int
        var sampler: Sampler
        var detokenizer: IncrementalDetokenizer
        let wantsPenaltyHistory: Bool
        let promptTokenIDs: [Int]
        var promptLogprobs: [TokenLogprobs?]?
        var cachedPromptTokens: Int?
        var reportedPromptLogprobs = false
        var timing: SampleTiming

        init(parent: String, index: Int, sampler: Sampler, detokenizer: IncrementalDetokenizer, wantsPenaltyHistory: Bool,
             promptTokenIDs: [Int], promptLogprobs: [TokenLogprobs?]?, timing: SampleTiming) {
            self.parent = parent
            self.index = index
            self.sampler = sampler
            self.detokenizer = detokenizer
            self.wantsPenaltyHistory = wantsPenaltyHistory
            self.promptTokenIDs = promptTokenIDs
            self.promptLogprobs = promptLogprobs
            self.timing = timing
        }
    }

    struct ParentState {
        var live: Set<RequestID>
        var promptTokenCount: Int
    }

    /// - Parameter draft: the draft model `--speculative-config` names (loaded by the caller),
    ///   required with a draft-model config and refused without one; its vocabulary must be
    ///   the target's, token for token.
    public init(model: LoadedModel, configuration: EngineConfiguration = EngineConfiguration(), draft: LoadedModel? = nil) throws(EngineError) {
        self.model = model
        self.configuration = configuration
        let maxLen = configuration.maxModelLen ?? model.model.maxPositions
        guard maxLen >= 2, maxLen <= model.model.maxPositions else {
            throw .invalidConfiguration("--max-model-len must be between 2 and the model's \(model.model.maxPositions) positions, got \(maxLen)")
        }
        maxModelLen = maxLen
        let speculative = configuration.speculativeConfig
        if let problem = speculative?.problem { throw .invalidConfiguration("--speculative-config: \(problem)") }
        switch (speculative?.method, draft) {
        case (.draftModel?, nil): throw .invalidConfiguration("--speculative-config names a draft model, but none was loaded")
        case (.draftModel?, let draft?): try Self.checkDraft(draft, for: model, maxModelLen: maxLen)
        case (_, _?): throw .invalidConfiguration("a draft model was given without a draft-model --speculative-config")
        default: break
        }
        kvSizing = try KVCacheSizing(model: model.model, blockSize: configuration.blockSize,
                                     memoryBytes: configuration.kvCacheMemory, maxModelLength: maxLen, dtype: configuration.kvCacheDType,
                                     draft: draft?.model)
        let schedulerConfig = SchedulerConfig(
            maxNumSeqs: configuration.maxNumSeqs,
            maxNumBatchedTokens: configuration.maxNumBatchedTokens
                ?? EngineConfiguration.defaultMaxNumBatchedTokens(matmulParameters: model.model.matmulParameters),
            maxModelLen: maxLen, blockSize: configuration.blockSize, numBlocks: kvSizing.numBlocks,
            enablePrefixCaching: configuration.enablePrefixCaching,
            policy: configuration.priorityScheduling ? .priority : .fcfs)
        if let problem = schedulerConfig.problem { throw .invalidConfiguration(problem) }
        if let problem = configuration.requestLimits.problem { throw .invalidConfiguration(problem) }
        var limits = configuration.requestLimits
        limits.maxTotalPromptTokens = min(limits.maxTotalPromptTokens ?? Int.max, kvSizing.maxCachedTokens)
        requestLimits = limits
        scheduler = Scheduler(config: schedulerConfig)
        let threads = configuration.threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard threads >= 1 else { throw .invalidConfiguration("--threads must be at least 1") }
        let layout = PagedKVLayout(numBlocks: kvSizing.numBlocks, blockSize: configuration.blockSize,
                                   numKVHeads: model.model.numKVHeads, headDim: model.model.headDim)
        let kernels = KernelContext(threads: threads)
        runner = ModelRunner(model: model.model, cache: KVCache(numLayers: model.model.numLayers, layout: layout, dtype: kvSizing.dtype),
                             context: kernels)
        let dtype = kvSizing.dtype
        draftProposer = draft.map {
            DraftModelProposer(model: $0.model, layout: layout, dtype: dtype, context: kernels)
        }
        seedCounter = configuration.seed ?? 0
        if let speculative {
            if let given = configuration.speculationPolicy {
                speculationPolicy = given
            } else {
                speculationPolicy = try SpeculationPolicy.measure(target: runner, draft: draftProposer?.runner,
                                                                  maxRows: speculative.numSpeculativeTokens + 1)
            }
        } else {
            speculationPolicy = nil
        }
    }

    /// A draft must score the target's tokens: the same number of logit rows and the same
    /// token for every id (vLLM compares vocabulary sizes; a tokenizer that merely has as many
    /// tokens in another order would propose nonsense, so ids are compared too).
    /// It must also reach every position a request may: its forward pass refuses the others.
    static func checkDraft(_ draft: LoadedModel, for target: LoadedModel, maxModelLen: Int) throws(EngineError) {
        guard draft.model.maxPositions >= maxModelLen else {
            throw .invalidConfiguration("the draft model \(draft.name) handles \(draft.model.maxPositions) positions, fewer than the max model length \(maxModelLen): lower --max-model-len")
        }
        let (d, t) = (draft.model.vocabularySize, target.model.vocabularySize)
        guard d == t else {
            throw .invalidConfiguration("the draft model \(draft.name) has a vocabulary of \(d) tokens, the target \(target.name) \(t): they must be the same")
        }
        let (dt, tt) = (draft.tokenizer, target.tokenizer)
        guard dt.vocabularySize == tt.vocabularySize else {
            throw .invalidConfiguration("the draft model's tokenizer has \(dt.vocabularySize) tokens, the target's \(tt.vocabularySize): they must be the same")
        }
        for id in 0..<tt.vocabularySize where dt.token(for: id) != tt.token(for: id) {
            throw .invalidConfiguration("the draft model's token \(id) is \(dt.token(for: id).map { "'\($0)'" } ?? "missing"), the target's \(tt.token(for: id).map { "'\($0)'" } ?? "missing"): the vocabularies must be the same")
        }
    }

    public var hasUnfinishedRequests: Bool { !samples.isEmpty }
    public var numWaitingRequests: Int { scheduler.stats.numWaiting }
    package var stats: SchedulerStats { scheduler.stats }

    // MARK: - Requests

    /// Checks a request against the model and the context length without adding it, and
    /// returns its parameters with `maxTokens` resolved ("up to the context limit" when nil).
    public func validate(_ request: EngineRequest) throws(EngineError) -> SamplingParameters {
        let vocab = model.model.vocabularySize
        var p = request.parameters
        try p.validate(vocabularySize: vocab)
        try requestLimits.check(p, vocabularySize: vocab)
        let prompt = request.promptTokenIDs
        guard !prompt.isEmpty else { throw .emptyPrompt }
        guard prompt.count < maxModelLen else { throw .promptTooLong(promptTokens: prompt.count, maxModelLength: maxModelLen) }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocab }) {
            throw .invalidParameter("prompt token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        let room = maxModelLen - prompt.count
        if let m = p.maxTokens, m > room {
            throw .invalidParameter("max_tokens (\(m)) plus the prompt (\(prompt.count) tokens) exceeds the maximum context length of \(maxModelLen) tokens")
        }
        p.maxTokens = min(p.maxTokens ?? room, room)
        return p
    }

    public func add(_ request: EngineRequest, id: String) throws(EngineError) {
        guard parents[id] == nil else { throw .invalidParameter("request id '\(id)' is already running") }
        var p = try validate(request)
        let prompt = request.promptTokenIDs
        let maxTokens = p.maxTokens!
        if p.seed == nil, configuration.seed != nil {
            seedCounter &+= 1
            p.seed = seedCounter
        }
        // Prompt logprobs need every prompt row computed: such requests skip the prefix cache.
        let salt = p.promptLogprobs != nil ? "prompt-logprobs:\(id)" : request.cacheSalt
        var ids: [RequestID] = []
        let now = ContinuousClock.now
        for index in 0..<p.n {
            let rid = RequestID(index == 0 ? id : "\(id)#\(index)")
            var sp = p
            if let seed = p.seed { sp.seed = seed &+ UInt64(index) }
            // The scheduler owns token-level stops (EOS, stop ids, max_tokens, the context).
            let sr = SchedulerRequest(
                id: rid, promptTokenIDs: prompt.map { Int32($0) }, parameters: p, eosTokenIDs: model.eosTokenIDs, maxTokens: maxTokens,
                priority: request.priority, cacheSalt: salt, forkParent: index == 0 ? nil : RequestID(id))
            do {
                try scheduler.addRequest(sr)
            } catch {
                _ = scheduler.finishRequests(ids, reason: .abort)
                for r in ids { samples.removeValue(forKey: r) }
                throw error
            }
            ids.append(rid)
            samples[rid] = SampleState(
                parent: id, index: index,
                sampler: Sampler(parameters: sp, eosTokenIDs: model.eosTokenIDs, logitsProcessor: request.makeLogitsProcessor?()),
                detokenizer: IncrementalDetokenizer(tokenizer: model.tokenizer, parameters: sp),
                wantsPenaltyHistory: sp.hasPenalties || sp.minTokens > 0, promptTokenIDs: sp.hasPenalties ? prompt : [],
                promptLogprobs: index == 0 && p.promptLogprobs != nil ? [nil] : nil,
                timing: SampleTiming(arrival: request.arrivalTime, queued: now, promptTokens: prompt.count))
        }
        parents[id] = ParentState(live: Set(ids), promptTokenCount: prompt.count)
    }

    public func abort(_ id: String) {
        guard let parent = parents.removeValue(forKey: id) else { return }
        _ = scheduler.finishRequests(parent.live, reason: .abort)
        let now = ContinuousClock.now
        for r in parent.live {
            let state = samples.removeValue(forKey: r)
            if collectsIterationStatistics, let state { iteration.finished.append(state.timing.finished(.abort, at: now)) }
        }
        refreshStatistics()
    }

    /// The iteration statistics recorded since the last call (see `collectsIterationStatistics`).
    public func takeIterationStatistics() -> IterationStatistics {
        let taken = iteration
        iteration = IterationStatistics()
        return taken
    }

    private func refreshStatistics() {
        let s = scheduler.stats
        statistics.numRunning = s.numRunning
        statistics.numWaiting = s.numWaiting
        statistics.kvCacheUsage = s.kvCacheUsage
        statistics.numPreemptions = s.numPreemptions
        statistics.prefixCacheQueries = s.prefixCacheQueries
        statistics.prefixCacheHits = s.prefixCacheHits
    }

    // MARK: - Step

    /// One step: schedule → plan → execute (prompt logprobs, sampling) → update → outputs.
    public func step() throws(EngineError) -> [StepOutput<RequestOutput>] {
        let output = scheduler.schedule()
        defer { refreshStatistics() }
        // A preempted request's blocks went back to the pool, and its draft KV with them.
        for id in output.preemptedIDs { draftProposer?.forget(id) }
        guard !output.scheduled.isEmpty else { return [] }
        let started = ContinuousClock.now
        let plan = StepPlan(output, promptLength: { self.scheduler.requests[$0]?.numPromptTokens ?? 0 },
                            wantsPromptLogprobs: { self.samples[$0]?.promptLogprobs != nil })
        statistics.steps += 1
        statistics.promptTokens += plan.promptTokens
        for entry in plan.entries {
            guard let state = samples[entry.id], state.cachedPromptTokens == nil else { continue }
            state.cachedPromptTokens = entry.start
            state.timing.scheduled = started
        }

        var sampled: [SampledToken] = []
        // Request i's tokens are sampled[groups[i]]: one each, unless proposals were verified.
        var groups: [Range<Int>] = []
        try runner.execute(plan.chunks) { logits throws(EngineError) in
            collectPromptLogprobs(plan, logits)
            if plan.numDraftTokens == 0 {
                sampled = sample(plan, logits)
                groups = sampled.indices.map { $0..<($0 + 1) }
            } else {
                verify(plan, logits, into: &sampled, groups: &groups)
            }
        }
        var tokens: [RequestID: [Int32]] = [:]
        for (id, range) in zip(plan.sampledIDs, groups) { tokens[id] = sampled[range].map { Int32($0.tokenID) } }
        if plan.numDraftTokens > 0 { recordSpeculation(plan, groups) }
        let updates = scheduler.updateFromOutput(output, sampledTokens: tokens)
        statistics.generationTokens += updates.reduce(0) { $0 + $1.newTokenIDs.count }
        let results = outputs(for: updates, plan: plan, sampled: sampled, groups: groups)
        if let speculation = configuration.speculativeConfig { try propose(speculation) }
        return results
    }
}
