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
    package private(set) var scheduler: Scheduler
    private let runner: ModelRunner
    private var batchSampler = BatchSampler()
    /// Logit rows gathered for sampling when they are not the first rows of the step's logits.
    private var gatheredRows: [Float] = []
    private var samples: [RequestID: SampleState] = [:]
    private var parents: [String: ParentState] = [:]
    private var seedCounter: UInt64
    public private(set) var statistics = EngineStatistics()
    /// Whether steps and aborts record `IterationStatistics` until `takeIterationStatistics()`
    /// drains them. Off by default, since undrained records would only grow; turn it on before
    /// adding requests (a metrics endpoint does, draining after every step).
    public var collectsIterationStatistics = false
    private var iteration = IterationStatistics()

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

    public init(model: LoadedModel, configuration: EngineConfiguration = EngineConfiguration()) throws(EngineError) {
        self.model = model
        self.configuration = configuration
        let maxLen = configuration.maxModelLen ?? model.model.maxPositions
        guard maxLen >= 2, maxLen <= model.model.maxPositions else {
            throw .invalidConfiguration("--max-model-len must be between 2 and the model's \(model.model.maxPositions) positions, got \(maxLen)")
        }
        maxModelLen = maxLen
        kvSizing = try KVCacheSizing(model: model.model, blockSize: configuration.blockSize,
                                     memoryBytes: configuration.kvCacheMemory, maxModelLength: maxLen, dtype: configuration.kvCacheDType)
        let schedulerConfig = SchedulerConfig(
            maxNumSeqs: configuration.maxNumSeqs, maxNumBatchedTokens: configuration.maxNumBatchedTokens,
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
        runner = ModelRunner(model: model.model, cache: KVCache(numLayers: model.model.numLayers, layout: layout, dtype: kvSizing.dtype),
                             context: KernelContext(threads: threads))
        seedCounter = configuration.seed ?? 0
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
                parent: id, index: index, sampler: Sampler(parameters: sp, eosTokenIDs: model.eosTokenIDs),
                detokenizer: IncrementalDetokenizer(tokenizer: model.tokenizer, parameters: sp),
                wantsPenaltyHistory: sp.hasPenalties, promptTokenIDs: sp.hasPenalties ? prompt : [],
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

    public func step() throws(EngineError) -> [StepOutput<RequestOutput>] {
        let plan = scheduler.schedule()
        defer { refreshStatistics() }
        guard !plan.scheduled.isEmpty else { return [] }
        let started = ContinuousClock.now
        statistics.steps += 1
        var stepPromptTokens = 0
        for s in plan.scheduled {
            let prompt = scheduler.requests[s.id]?.numPromptTokens ?? 0
            stepPromptTokens += max(0, min(s.numComputedTokens + s.numNewTokens, prompt) - s.numComputedTokens)
        }
        statistics.promptTokens += stepPromptTokens
        let promptLength = { (id: RequestID) in self.scheduler.requests[id]?.numPromptTokens ?? 0 }

        // Which rows of each chunk need logits: the last row when a token is sampled, plus the
        // prompt rows of requests that asked for prompt logprobs.
        var chunks: [ModelRunner.Chunk] = []
        var promptRows: [(id: RequestID, firstPosition: Int, count: Int)] = []
        for s in plan.scheduled {
            var rows: [Int] = []
            if samples[s.id]?.promptLogprobs != nil {
                let end = min(s.numComputedTokens + s.numNewTokens, promptLength(s.id))
                if end > s.numComputedTokens {
                    rows = Array(0..<(end - s.numComputedTokens))
                    promptRows.append((s.id, s.numComputedTokens, rows.count))
                }
            }
            if s.samplesToken, rows.last != s.numNewTokens - 1 { rows.append(s.numNewTokens - 1) }
            chunks.append(.init(tokens: s.tokenIDs, start: s.numComputedTokens, blockTable: s.blockTable, logitRows: rows))
            if samples[s.id]?.cachedPromptTokens == nil {
                samples[s.id]?.cachedPromptTokens = s.numComputedTokens
                samples[s.id]?.timing.scheduled = started
            }
        }

        let vocab = model.model.vocabularySize
        var sampledIDs: [RequestID] = []
        var sampled: [SampledToken] = []
        try runner.execute(chunks) { logits throws(EngineError) in
            // Gather the sampled rows (the last logit row of each sampling chunk).
            var rowOffset = 0
            var sampleRowIndex: [Int] = []
            for (s, chunk) in zip(plan.scheduled, chunks) {
                if s.samplesToken {
                    sampledIDs.append(s.id)
                    sampleRowIndex.append(rowOffset + chunk.logitRows.count - 1)
                }
                rowOffset += chunk.logitRows.count
            }
            // Prompt logprobs: row r (position p) predicts the prompt token at p + 1.
            var offset = 0
            var promptIndex = 0
            for (s, chunk) in zip(plan.scheduled, chunks) {
                if promptIndex < promptRows.count, promptRows[promptIndex].id == s.id, let state = samples[s.id],
                   let k = state.sampler.parameters.promptLogprobs {
                    let (_, first, count) = promptRows[promptIndex]
                    let prompt = scheduler.requests[s.id]?.promptTokenIDs ?? []
                    for r in 0..<count where first + r + 1 < prompt.count {
                        let row = UnsafeBufferPointer(rebasing: logits[((offset + r) * vocab)..<((offset + r + 1) * vocab)])
                        state.promptLogprobs?.append(Logprobs.of(Int(prompt[prompt.startIndex + first + r + 1]), in: row, topK: k))
                    }
                    promptIndex += 1
                }
                offset += chunk.logitRows.count
            }
            guard !sampledIDs.isEmpty else { return }
            var samplers = sampledIDs.map { samples[$0]!.sampler }
            let prompts = sampledIDs.map { samples[$0]!.promptTokenIDs }
            let outputs = sampledIDs.map { samples[$0]!.wantsPenaltyHistory ? samples[$0]!.detokenizer.outputTokenIDs : [] }
            // The sampled rows are usually the logits' first rows in order (no prompt logprobs in
            // the step): sample them in place. Otherwise gather them into reused scratch.
            let sampledRows = sampledIDs.count * vocab
            if sampleRowIndex.elementsEqual(0..<sampleRowIndex.count) {
                batchSampler.sample(logits: UnsafeBufferPointer(rebasing: logits[..<sampledRows]), vocabularySize: vocab,
                                    samplers: &samplers, promptTokenIDs: prompts, outputTokenIDs: outputs, into: &sampled)
            } else {
                if gatheredRows.count < sampledRows { gatheredRows = [Float](repeating: 0, count: sampledRows) }
                gatheredRows.withUnsafeMutableBufferPointer { dst in
                    for (i, r) in sampleRowIndex.enumerated() {
                        _ = UnsafeMutableBufferPointer(rebasing: dst[(i * vocab)..<((i + 1) * vocab)])
                            .initialize(from: logits[(r * vocab)..<((r + 1) * vocab)])
                    }
                    batchSampler.sample(logits: UnsafeBufferPointer(rebasing: dst[..<sampledRows]), vocabularySize: vocab,
                                        samplers: &samplers, promptTokenIDs: prompts, outputTokenIDs: outputs, into: &sampled)
                }
            }
            for (id, sampler) in zip(sampledIDs, samplers) { samples[id]?.sampler = sampler }
        }

        statistics.generationTokens += sampledIDs.count
        var tokens: [RequestID: [Int32]] = [:]
        for (id, s) in zip(sampledIDs, sampled) { tokens[id] = [Int32(s.tokenID)] }
        let logprobsByID = Dictionary(uniqueKeysWithValues: zip(sampledIDs, sampled.map(\.logprobs)))
        let updates = scheduler.updateFromOutput(plan, sampledTokens: tokens)
        let now = ContinuousClock.now
        var stepGeneratedTokens = 0

        var results: [StepOutput<RequestOutput>] = []
        var stopStringFinished: [RequestID] = []
        for update in updates {
            guard let state = samples[update.id] else { continue }
            var text = ""
            var finish: Finish?
            // The scheduler's verdict belongs to the last token; the detokenizer may still end
            // the request earlier on a stop string.
            let scheduled = update.finish
            for (i, token) in update.newTokenIDs.enumerated() {
                let delta = state.detokenizer.append(Int(token), finish: i == update.newTokenIDs.count - 1 ? scheduled : nil)
                text += delta.text
                if let f = delta.finish {
                    finish = f
                    break
                }
            }
            if collectsIterationStatistics {
                stepGeneratedTokens += update.newTokenIDs.count
                state.timing.produced(update.newTokenIDs.count, at: now, into: &iteration)
            }
            if finish != nil, update.finishReason == nil { stopStringFinished.append(update.id) }
            if finish == nil, let scheduled {
                // Finished without a token to carry it (not produced by updateFromOutput today):
                // close the text too.
                text += state.detokenizer.abort().text
                finish = scheduled
            }
            var promptLogprobs: [TokenLogprobs?]?
            if !state.reportedPromptLogprobs, let p = state.promptLogprobs, !update.newTokenIDs.isEmpty || finish != nil {
                promptLogprobs = p
                state.reportedPromptLogprobs = true
            }
            let logprobs = update.newTokenIDs.isEmpty ? [] : (logprobsByID[update.id].flatMap { $0 }.map { [$0] } ?? [])
            let output = RequestOutput(
                index: state.index, tokenIDs: update.newTokenIDs.map { Int($0) }, text: text, logprobs: logprobs,
                promptLogprobs: promptLogprobs, finish: finish,
                promptTokenCount: parents[state.parent]?.promptTokenCount ?? 0, cachedPromptTokenCount: state.cachedPromptTokens ?? 0)
            var parentFinished = false
            if let finish {
                if collectsIterationStatistics { iteration.finished.append(state.timing.finished(finish.reason, at: now)) }
                samples.removeValue(forKey: update.id)
                parents[state.parent]?.live.remove(update.id)
                if parents[state.parent]?.live.isEmpty ?? true {
                    parents.removeValue(forKey: state.parent)
                    parentFinished = true
                    statistics.finishedRequests += 1
                }
            }
            if output.tokenIDs.isEmpty, output.text.isEmpty, output.finish == nil, output.promptLogprobs == nil { continue }
            results.append(StepOutput(requestID: state.parent, output: output, finished: parentFinished))
        }
        if !stopStringFinished.isEmpty { _ = scheduler.finishRequests(stopStringFinished, reason: .stop) }
        if collectsIterationStatistics { iteration.stepTokens.append(stepPromptTokens + stepGeneratedTokens) }
        return results
    }
}
