import Testing
import TramTestSupport
import TramEngine

/// The scheduler and block manager driven by a seeded random client: requests with shared
/// prefixes, forks, fake sampled tokens, stops, aborts and pools small enough to preempt often.
/// Every step is checked against the invariants and against what a client would have seen.
@Suite struct SchedulerStateMachineTests {
    /// What the client knows about one request.
    struct Client {
        var request: SchedulerRequest
        var received: [Int32] = []
        var preempted = false
        var tokens: [Int32] { Array(request.promptTokenIDs) + received }
    }

    @Test(arguments: Array(1...24) as [UInt64])
    func randomizedSteps(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let blockSize = [1, 2, 4, 8].randomElement(using: &rng)!
        let maxModelLen = Int.random(in: 12...48, using: &rng)
        let minBlocks = (maxModelLen + blockSize - 1) / blockSize
        let config = SchedulerConfig(
            maxNumSeqs: Int.random(in: 1...6, using: &rng),
            maxNumBatchedTokens: Int.random(in: 1...40, using: &rng),
            maxModelLen: maxModelLen, blockSize: blockSize,
            numBlocks: minBlocks + Int.random(in: 0...minBlocks, using: &rng),
            enablePrefixCaching: Bool.random(using: &rng),
            policy: Bool.random(using: &rng) ? .fcfs : .priority,
            longPrefillTokenThreshold: Bool.random(using: &rng) ? Int.random(in: 1...16, using: &rng) : nil)
        var s = Scheduler(config: config)
        let systemPrompts: [[Int32]] = (0..<3).map { i in tokens(Int.random(in: 1...20, using: &rng), from: Int32(100 * (i + 1))) }
        var clients: [RequestID: Client] = [:]
        var finished: [RequestID: (client: Client, reason: FinishReason)] = [:]
        var nextID = 0

        func addRandomRequest() throws {
            let id = RequestID("r\(nextID)")
            nextID += 1
            var prompt = systemPrompts.randomElement(using: &rng)!
            prompt += (0..<Int.random(in: 0...12, using: &rng)).map { _ in Int32.random(in: 20..<60, using: &rng) }
            prompt = Array(prompt.prefix(Int.random(in: 1...(maxModelLen - 1), using: &rng)))
            var forkParent: RequestID?
            if Int.random(in: 0..<5, using: &rng) == 0, let parent = clients.values.randomElement(using: &rng) {
                prompt = Array(parent.request.promptTokenIDs)
                forkParent = parent.request.id
            }
            let request = SchedulerRequest(
                id: id, promptTokenIDs: prompt, maxTokens: Int.random(in: 1...24, using: &rng),
                minTokens: Int.random(in: 0...3, using: &rng),
                eosTokenIDs: { let eos: Set<Int32> = Bool.random(using: &rng) ? [0] : []; return Int.random(in: 0..<4, using: &rng) == 0 ? [] : eos }(),
                stopTokenIDs: Bool.random(using: &rng) ? [1] : [], priority: Int.random(in: 0...3, using: &rng),
                cacheSalt: Int.random(in: 0..<6, using: &rng) == 0 ? "salt" : nil, forkParent: forkParent)
            try s.addRequest(request)
            clients[id] = Client(request: request)
        }

        var proposed: [RequestID: [Int32]] = [:]
        var step = 0
        while step < 2000, step < 300 || !clients.isEmpty {
            step += 1
            if step < 300 { for _ in 0..<Int.random(in: 0...2, using: &rng) where Bool.random(using: &rng) { try addRandomRequest() } }

            // Speculative proposals for some decoding requests (capped by the scheduler); one
            // not scheduled in its step stays for the next.
            for id in s.running where Int.random(in: 0..<3, using: &rng) == 0 {
                let draft = (0..<Int.random(in: 1...4, using: &rng)).map { _ in Int32.random(in: 2..<12, using: &rng) }
                s.propose(draft, for: id)
                if let r = s.requests[id], !r.specTokenIDs.isEmpty {
                    #expect(draft.starts(with: r.specTokenIDs) && r.specTokenIDs.count <= s.maxProposal(r))
                    proposed[id] = r.specTokenIDs
                }
            }

            let out = s.schedule()
            // Budget, sequence cap, and the exact tokens to feed.
            #expect(out.totalNumScheduledTokens <= config.maxNumBatchedTokens)
            #expect(out.totalNumScheduledTokens == out.scheduled.reduce(0) { $0 + $1.numNewTokens })
            #expect(out.scheduled.count <= config.maxNumSeqs && Set(out.scheduled.map(\.id)).count == out.scheduled.count)
            for item in out.scheduled {
                let client = try #require(clients[item.id])
                #expect(item.numNewTokens > 0)
                let known = item.numNewTokens - item.numSpecTokens
                #expect(item.numSpecTokens == 0 || proposed[item.id]?.starts(with: item.tokenIDs.suffix(item.numSpecTokens)) == true)
                #expect(Array(item.tokenIDs.prefix(known)) == Array(client.tokens[item.numComputedTokens..<item.numComputedTokens + known]))
                #expect(item.samplesToken == (item.numComputedTokens + known == client.tokens.count))
                #expect(item.blockTable.count * blockSize >= item.numComputedTokens + item.numNewTokens)
                #expect(item.blockTable == s.kvCache.blockTable(for: item.id))
            }
            for id in out.preemptedIDs {
                #expect(s.kvCache.blockTable(for: id).isEmpty && s.requests[id]?.status == .preempted)
                clients[id]?.preempted = true
            }
            checkInvariants(s)

            // Sometimes a client goes away between schedule() and the model's output.
            if Int.random(in: 0..<40, using: &rng) == 0, let id = clients.keys.randomElement(using: &rng) {
                #expect(s.finishRequests([id], reason: .abort).count == 1)
                finished[id] = (clients.removeValue(forKey: id)!, .abort)
            }

            var sampled: [RequestID: [Int32]] = [:]
            for item in out.scheduled {
                if item.numSpecTokens > 0 {
                    // Verification: an accepted prefix of the proposals, then one more token.
                    let accepted = Int.random(in: 0...item.numSpecTokens, using: &rng)
                    sampled[item.id] = Array(item.tokenIDs.suffix(item.numSpecTokens).prefix(accepted)) + [Int32.random(in: 0..<12, using: &rng)]
                    continue
                }
                let count = Int.random(in: 0..<8, using: &rng) == 0 ? 2 : 1
                sampled[item.id] = (0..<count).map { _ in Int32.random(in: 0..<12, using: &rng) }
            }
            for update in s.updateFromOutput(out, sampledTokens: sampled) {
                var client = try #require(clients[update.id])
                let item = try #require(out.scheduled.first { $0.id == update.id })
                #expect(item.samplesToken, "a prompt chunk produced tokens")
                #expect(Array(sampled[update.id]!.prefix(update.newTokenIDs.count)) == update.newTokenIDs)
                client.received += update.newTokenIDs
                clients[update.id] = client
                if item.numSpecTokens > 0, update.finishReason == nil, let r = s.requests[update.id] {
                    // Rolled back to the accepted tokens; the rejected proposals' blocks are gone.
                    #expect(r.numComputedTokens == r.numTokens - 1 && r.specTokenIDs.isEmpty)
                    let blocks = s.kvCache.blockTable(for: update.id).count
                    #expect(blocks * blockSize >= r.numComputedTokens && (blocks - 1) * blockSize < r.numTokens)
                }
                if let reason = update.finishReason {
                    check(client, reason: reason, stopToken: update.stopTokenID, maxModelLen: maxModelLen)
                    finished[update.id] = (clients.removeValue(forKey: update.id)!, reason)
                    #expect(s.requests[update.id] == nil && s.kvCache.blockTable(for: update.id).isEmpty)
                }
            }
            // Stop strings found by a detokenizer, and aborts, at any time.
            if Int.random(in: 0..<25, using: &rng) == 0, let id = clients.keys.randomElement(using: &rng) {
                let reason: FinishReason = Bool.random(using: &rng) ? .stop : .abort
                #expect(s.finishRequests([id], reason: reason).map(\.finishReason) == [reason])
                finished[id] = (clients.removeValue(forKey: id)!, reason)
            }
            checkInvariants(s)
            #expect(Set(s.requests.keys) == Set(clients.keys))
            for (id, client) in clients { #expect(s.requests[id]?.outputTokenIDs.elementsEqual(client.received) == true) }
        }
        // Nothing starves: every request finished, every block is back.
        #expect(clients.isEmpty, "unfinished after \(step) steps: \(clients.keys.sorted())")
        #expect(s.kvCache.numFreeBlocks == config.numBlocks && s.kvCache.blockTables.isEmpty)
        #expect(finished.count == nextID)
        #expect(s.stats.prefixCacheHits <= s.stats.prefixCacheQueries)
        if !config.enablePrefixCaching { #expect(s.stats.prefixCacheQueries == 0) }
    }

    /// The finish reason agrees with what the client received.
    func check(_ client: Client, reason: FinishReason, stopToken: Int32?, maxModelLen: Int,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let r = client.request
        let total = r.numPromptTokens + client.received.count
        #expect(client.received.count <= r.maxTokens && total <= maxModelLen, sourceLocation: sourceLocation)
        switch reason {
        case .length:
            #expect(client.received.count == r.maxTokens || total == maxModelLen, sourceLocation: sourceLocation)
        case .stop:
            let last = client.received.last
            #expect(last != nil && last == stopToken && client.received.count >= r.minTokens, sourceLocation: sourceLocation)
            #expect(r.eosTokenIDs.contains(last ?? -1) || r.stopTokenIDs.contains(last ?? -1), sourceLocation: sourceLocation)
        case .abort:
            Issue.record("the scheduler aborted by itself", sourceLocation: sourceLocation)
        }
        // No stop token went unnoticed earlier in the stream.
        for (i, token) in client.received.dropLast().enumerated() where i + 1 >= r.minTokens {
            #expect(!r.stopTokenIDs.contains(token) && !r.eosTokenIDs.contains(token), sourceLocation: sourceLocation)
        }
    }

    @Test func tinyPoolsPreemptAndPreemptedRequestsStillFinishWithAllTheirTokens() throws {
        // Six requests that each grow to 16 tokens in a pool that holds 20: preemption is certain.
        var s = makeScheduler(maxNumSeqs: 6, maxNumBatchedTokens: 16, maxModelLen: 16, blockSize: 2, numBlocks: 10)
        for i in 0..<6 { try s.addRequest(makeRequest(RequestID("r\(i)"), prompt: tokens(4, from: Int32(10 * i)), maxTokens: 12)) }
        var received: [RequestID: Int] = [:]
        var preempted: Set<RequestID> = []
        for _ in 0..<500 where !s.requests.isEmpty {
            let (out, updates) = s.step()
            preempted.formUnion(out.preemptedIDs)
            for u in updates { received[u.id, default: 0] += u.newTokenIDs.count }
            checkInvariants(s)
        }
        #expect(s.requests.isEmpty && !preempted.isEmpty && s.stats.numPreemptions >= preempted.count)
        for i in 0..<6 { #expect(received[RequestID("r\(i)")] == 12) }
    }
}
