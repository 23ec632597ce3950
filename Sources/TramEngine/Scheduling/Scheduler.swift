import DequeModule

/// Continuous batching with vLLM V1 semantics: no prefill or decode phases, only requests whose
/// `numComputedTokens` catch up with their `numTokens`, a token budget per step, and preemption
/// by recompute when KV blocks run out. A pure state machine: `schedule()` returns a value, the
/// engine runs the model, `updateFromOutput` takes the sampled tokens back.
///
/// Invariants (tests check them after every step):
/// - `running` is in admission order (the last element was admitted most recently) and holds
///   at most `maxNumSeqs` requests, all `.running` and each with a block table covering its
///   computed tokens;
/// - `waiting` holds `.waiting` and `.preempted` requests, none of which holds blocks; preempted
///   ones sit in front, in the order they were preempted last-first;
/// - a step schedules at most `maxNumBatchedTokens` tokens and never more than a request has left;
/// - finished requests are dropped at once, their blocks freed.
///
/// Every per-request operation is O(1) in the number of waiting requests (amortized): the waiting
/// queue is a deque, and a waiting request that finishes (an abort) leaves its entry behind as a
/// tombstone that admission skips and that is swept out once tombstones outnumber live entries.
/// Aborting 100,000 waiting requests took minutes when each abort searched the queue.
package struct Scheduler: Sendable {
    package let config: SchedulerConfig
    package internal(set) var kvCache: KVCacheManager
    package internal(set) var requests: [RequestID: SchedulerRequest] = [:]
    /// Admission order; the victim under FCFS is the last.
    package private(set) var running: [RequestID] = []
    /// Front is admitted next under FCFS; may hold tombstones (see `isLive`).
    private var waitingQueue = Deque<WaitingEntry>()
    /// Live entries of `waitingQueue`.
    private var numWaiting = 0
    package private(set) var numPreemptions = 0
    package private(set) var lastScheduledTokens = 0
    package private(set) var totalScheduledTokens = 0
    private var nextArrival = 0
    /// Finished since the previous `schedule()`, reported in its output.
    private var recentlyFinished: [RequestID] = []

    /// - Precondition: `config.problem == nil`; the engine validates its flags first.
    package init(config: SchedulerConfig) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        kvCache = KVCacheManager(numBlocks: config.numBlocks, blockSize: config.blockSize, enablePrefixCaching: config.enablePrefixCaching)
    }

    package var stats: SchedulerStats {
        SchedulerStats(
            numRunning: running.count, numWaiting: numWaiting, kvCacheUsage: kvCache.usage,
            numPreemptions: numPreemptions, prefixCacheQueries: kvCache.prefixCacheQueries,
            prefixCacheHits: kvCache.prefixCacheHits, numScheduledTokens: lastScheduledTokens,
            totalScheduledTokens: totalScheduledTokens)
    }

    /// Queues a request; it can be scheduled by the very next `schedule()`.
    package mutating func addRequest(_ request: SchedulerRequest) throws(EngineError) {
        guard requests[request.id] == nil else { throw .invalidParameter("duplicate request id \(request.id)") }
        guard request.numPromptTokens > 0 else { throw .emptyPrompt }
        guard request.numPromptTokens < config.maxModelLen else {
            throw .promptTooLong(promptTokens: request.numPromptTokens, maxModelLength: config.maxModelLen)
        }
        guard request.maxTokens >= 1 else { throw .invalidParameter("max_tokens must be at least 1, got \(request.maxTokens)") }
        var request = request
        request.status = .waiting
        request.numComputedTokens = 0
        request.arrivalIndex = nextArrival
        nextArrival += 1
        requests[request.id] = request
        waitingQueue.append(WaitingEntry(id: request.id, arrivalIndex: request.arrivalIndex))
        numWaiting += 1
    }

    /// The waiting requests in queue order (admission order under FCFS), tombstones left out.
    package var waiting: [RequestID] { waitingQueue.filter(isLive).map(\.id) }

    /// One place in the waiting queue. The arrival index tells a live entry from the tombstone of
    /// an earlier request that had the same id.
    private struct WaitingEntry: Sendable {
        var id: RequestID
        var arrivalIndex: Int
    }

    /// Whether an entry still stands for a waiting request (not one that finished while waiting).
    private func isLive(_ entry: WaitingEntry) -> Bool { Self.isLive(entry, in: requests) }

    private static func isLive(_ entry: WaitingEntry, in requests: [RequestID: SchedulerRequest]) -> Bool {
        guard let request = requests[entry.id], request.arrivalIndex == entry.arrivalIndex else { return false }
        return request.status == .waiting || request.status == .preempted
    }

    /// Plans one step. Running requests go first, in admission order; when one cannot get its
    /// blocks, the policy's victim is preempted (possibly itself, which ends the running pass).
    /// Waiting requests are admitted next, in policy order, while budget, sequence slots and
    /// blocks last — but not in a step that preempted, since blocks are known to be short.
    package mutating func schedule() -> SchedulerOutput {
        var output = SchedulerOutput()
        output.finishedIDs = recentlyFinished
        recentlyFinished = []
        var budget = config.maxNumBatchedTokens

        var index = 0
        runningLoop: while index < running.count, budget > 0 {
            let id = running[index]
            let request = requests[id]!
            let numNew = tokensToSchedule(request, budget: budget)
            if numNew == 0 {
                index += 1
                continue
            }
            while true {
                let table = kvCache.allocateSlots(for: id, numComputedTokens: request.numComputedTokens, numNewTokens: numNew)
                if let table {
                    output.scheduled.append(scheduled(request, numNew: numNew, table: table))
                    budget -= numNew
                    index += 1
                    break
                }
                let victimIndex = preemptionVictim()
                let victim = running.remove(at: victimIndex)
                if victimIndex < index { index -= 1 }
                if let undone = output.scheduled.firstIndex(where: { $0.id == victim }) {
                    // Only `.priority` can pick a victim already scheduled in this step.
                    budget += output.scheduled.remove(at: undone).numNewTokens
                }
                preempt(victim)
                output.preemptedIDs.append(victim)
                if victim == id { break runningLoop }
            }
        }

        if output.preemptedIDs.isEmpty {
            while budget > 0, running.count < config.maxNumSeqs, let position = nextWaitingPosition() {
                let id = waitingQueue[position].id
                guard let numNew = admit(id, budget: budget, into: &output) else { break }
                if position == waitingQueue.startIndex { waitingQueue.removeFirst() } else { waitingQueue.remove(at: position) }
                numWaiting -= 1
                running.append(id)
                budget -= numNew
            }
        }

        output.totalNumScheduledTokens = config.maxNumBatchedTokens - budget
        lastScheduledTokens = output.totalNumScheduledTokens
        totalScheduledTokens += output.totalNumScheduledTokens
        return output
    }

    /// Ends requests for reasons decided elsewhere: a stop string found by the detokenizer
    /// (`.stop`), a cancelled client (`.abort`). Unknown or already finished ids are ignored.
    /// Returns an update (no new tokens, the given reason) for each request actually finished.
    @discardableResult
    package mutating func finishRequests(_ ids: some Sequence<RequestID>, reason: FinishReason) -> [RequestUpdate] {
        var updates: [RequestUpdate] = []
        for id in ids where requests[id] != nil {
            finish(id)
            updates.append(RequestUpdate(id: id, newTokenIDs: [], finishReason: reason, stopTokenID: nil))
        }
        return updates
    }

    /// Sets the tokens the next step verifies after a decoding request's newest token
    /// (speculative decoding). Capped so the request can still take them all and a bonus token
    /// within `max_tokens` and `max_model_len`; ignored unless the request is running with only
    /// its newest token uncomputed.
    package mutating func propose(_ tokens: [Int32], for id: RequestID) {
        guard var request = requests[id], request.status == .running,
              request.numComputedTokens == request.numTokens - 1 else { return }
        request.specTokenIDs = Array(tokens.prefix(max(0, maxProposal(request))))
        requests[id] = request
    }

    /// Allocates, ahead of the step, the blocks a decoding request's newest token and `count`
    /// proposals will occupy: a draft model writes its K and V for the proposals before the
    /// scheduler allocates for them. Returns the request's block table, or nil when the pool
    /// cannot hold them (then nothing is allocated and nothing should be proposed). Blocks a
    /// verification does not use are trimmed with its rejected tokens.
    package mutating func reserveProposalSlots(_ count: Int, for id: RequestID) -> [Int32]? {
        guard let request = requests[id], request.status == .running,
              request.numComputedTokens == request.numTokens - 1 else { return nil }
        return kvCache.allocateSlots(for: id, numComputedTokens: request.numComputedTokens, numNewTokens: 1 + count)
    }

    /// How many tokens a decoding request may have proposed: the step computes them after its
    /// newest token and may emit one more, all within `max_tokens` and `max_model_len`.
    package func maxProposal(_ request: SchedulerRequest) -> Int {
        min(request.maxTokens - request.numOutputTokens - 1, config.maxModelLen - request.numTokens)
    }

    // MARK: - Steps

    /// Tokens the request may compute now: what it has left, capped by the budget, the long
    /// prefill threshold, and the last position `maxModelLen` allows.
    private func tokensToSchedule(_ request: SchedulerRequest, budget: Int) -> Int {
        var n = request.numTokens + request.specTokenIDs.count - request.numComputedTokens
        if let threshold = config.longPrefillTokenThreshold { n = min(n, threshold) }
        n = min(n, budget, config.maxModelLen - request.numComputedTokens)
        return max(n, 0)
    }

    private func scheduled(_ request: SchedulerRequest, numNew: Int, table: [Int32]) -> SchedulerOutput.ScheduledRequest {
        let start = request.numComputedTokens
        let known = min(numNew, request.numTokens - start)
        let numSpec = numNew - known
        var tokens = Array(request.tokenIDs[start..<start + known])
        if numSpec > 0 { tokens += request.specTokenIDs.prefix(numSpec) }
        var s = SchedulerOutput.ScheduledRequest(
            id: request.id, numNewTokens: numNew, numComputedTokens: start, tokenIDs: tokens, blockTable: table,
            samplesToken: start + numNew >= request.numTokens)
        s.numSpecTokens = numSpec
        return s
    }

    /// Tries to start (or restart) a waiting request: reuse its fork parent's prompt blocks or
    /// the prefix cache, then allocate the rest of this step's chunk. Returns the tokens scheduled,
    /// or nil — changing nothing — when its blocks do not fit.
    private mutating func admit(_ id: RequestID, budget: Int, into output: inout SchedulerOutput) -> Int? {
        var request = requests[id]!
        var hit = PrefixHit.none
        if let parentID = request.forkParent, let parent = requests[parentID], parent.status == .running,
           parent.promptTokenIDs == request.promptTokenIDs {
            hit = kvCache.sharedPrefix(of: parentID, numPromptTokens: request.numPromptTokens, parentComputedTokens: parent.numComputedTokens)
        }
        if hit.blockIDs.isEmpty {
            hit = kvCache.findCachedPrefix(of: request.tokenIDs, extraKey: request.extraKey)
        }
        request.numComputedTokens = hit.numTokens
        let numNew = tokensToSchedule(request, budget: budget)
        guard numNew > 0,
              let table = kvCache.allocateSlots(for: id, numComputedTokens: hit.numTokens, numNewTokens: numNew, prefixHit: hit)
        else { return nil }
        request.status = .running
        requests[id] = request
        output.scheduled.append(scheduled(request, numNew: numNew, table: table))
        return numNew
    }

    /// Index in `running` of the request to preempt: the most recently admitted under FCFS, the
    /// least important (then latest arrived) under `.priority`.
    private func preemptionVictim() -> Int {
        switch config.policy {
        case .fcfs:
            return running.count - 1
        case .priority:
            return running.indices.max { a, b in
                let x = requests[running[a]]!, y = requests[running[b]]!
                return (x.priority, x.arrivalIndex) < (y.priority, y.arrivalIndex)
            }!
        }
    }

    /// Position in `waitingQueue` of the request to admit next (tombstones in front are dropped).
    private mutating func nextWaitingPosition() -> Int? {
        while let first = waitingQueue.first, !isLive(first) { waitingQueue.removeFirst() }
        guard !waitingQueue.isEmpty else { return nil }
        switch config.policy {
        case .fcfs:
            return waitingQueue.startIndex
        case .priority:
            return waitingQueue.indices.filter { isLive(waitingQueue[$0]) }.min { a, b in
                let x = requests[waitingQueue[a].id]!, y = requests[waitingQueue[b].id]!
                return (x.priority, x.arrivalIndex) < (y.priority, y.arrivalIndex)
            }
        }
    }

    /// Preemption by recompute: the victim (already removed from `running`) frees its blocks,
    /// forgets its computed tokens, keeps its output, and goes to the front of `waiting`.
    private mutating func preempt(_ id: RequestID) {
        kvCache.free(id)
        requests[id]!.numComputedTokens = 0
        requests[id]!.specTokenIDs = []
        requests[id]!.status = .preempted
        requests[id]!.numPreemptions += 1
        numPreemptions += 1
        waitingQueue.prepend(WaitingEntry(id: id, arrivalIndex: requests[id]!.arrivalIndex))
        numWaiting += 1
    }

    /// Drops a request from every queue and frees its blocks.
    mutating func finish(_ id: RequestID) {
        guard let request = requests.removeValue(forKey: id) else { return }
        if request.status == .running {
            // At most `maxNumSeqs` entries.
            running.removeAll { $0 == id }
        } else {
            // Its queue entry is now a tombstone; sweep when they are the majority.
            numWaiting -= 1
            if waitingQueue.count > 64, waitingQueue.count > 2 * numWaiting {
                let requests = self.requests
                waitingQueue.removeAll { !Self.isLive($0, in: requests) }
            }
        }
        kvCache.free(id)
        recentlyFinished.append(id)
    }
}
