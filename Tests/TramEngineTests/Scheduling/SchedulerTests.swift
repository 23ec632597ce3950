import Testing
import TramEngine

@Suite struct SchedulerTests {
    @Test func chunkedPrefillSplitsALongPromptAcrossSteps() throws {
        var s = makeScheduler(maxNumBatchedTokens: 16)
        try s.addRequest(makeRequest("a", prompt: tokens(40), maxTokens: 2))
        var (out, updates) = s.step()
        #expect(out.scheduled.map(\.numNewTokens) == [16] && !out.scheduled[0].samplesToken && updates.isEmpty)
        #expect(out.scheduled[0].tokenIDs == Array(tokens(40)[0..<16]) && out.scheduled[0].blockTable.count == 4)
        (out, updates) = s.step()
        #expect(out.scheduled[0].numComputedTokens == 16 && out.scheduled[0].numNewTokens == 16 && updates.isEmpty)
        (out, updates) = s.step(token: 5)
        #expect(out.scheduled[0].numNewTokens == 8 && out.scheduled[0].samplesToken)
        #expect(updates == [Scheduler.RequestUpdate(id: "a", newTokenIDs: [5], finishReason: nil, stopTokenID: nil)])
        (out, updates) = s.step(token: 6)
        #expect(out.scheduled[0].tokenIDs == [5] && out.scheduled[0].numComputedTokens == 40)
        #expect(updates.first?.finishReason == .length && updates.first?.newTokenIDs == [6])
        #expect(s.requests.isEmpty && s.kvCache.numFreeBlocks == 64)
        #expect(s.schedule().finishedIDs == ["a"])
    }

    @Test func chunksIgnoreSampledTokensAndThresholdCapsAChunk() throws {
        var s = makeScheduler(maxNumBatchedTokens: 16, longPrefillTokenThreshold: 6)
        try s.addRequest(makeRequest("a", prompt: tokens(10)))
        var out = s.schedule()
        #expect(out.scheduled[0].numNewTokens == 6)
        #expect(s.updateFromOutput(out, sampledTokens: ["a": [99]]).isEmpty)
        #expect(s.requests["a"]?.numOutputTokens == 0 && s.requests["a"]?.numComputedTokens == 6)
        out = s.schedule()
        #expect(out.scheduled[0].numNewTokens == 4 && out.scheduled[0].samplesToken)
    }

    @Test func newRequestsJoinAtTheNextStep() throws {
        var s = makeScheduler(maxNumBatchedTokens: 32)
        try s.addRequest(makeRequest("a", prompt: tokens(5), maxTokens: 10))
        #expect(s.step().output.scheduled.map(\.id) == ["a"])
        try s.addRequest(makeRequest("b", prompt: tokens(7, from: 50), maxTokens: 10))
        let out = s.step().output
        #expect(out.scheduled.map(\.id) == ["a", "b"])
        #expect(out.scheduled.map(\.numNewTokens) == [1, 7] && out.totalNumScheduledTokens == 8)
    }

    @Test func budgetAndSequenceCapHoldWaitingRequestsBack() throws {
        var s = makeScheduler(maxNumSeqs: 2, maxNumBatchedTokens: 10)
        for i in 0..<4 { try s.addRequest(makeRequest(RequestID("r\(i)"), prompt: tokens(4, from: Int32(i * 10)))) }
        var out = s.step().output
        #expect(out.scheduled.map(\.id) == ["r0", "r1"] && s.waiting == ["r2", "r3"])
        out = s.step().output
        #expect(out.scheduled.map(\.numNewTokens) == [1, 1] && s.stats.numWaiting == 2 && s.stats.numRunning == 2)
    }

    @Test func preemptionTakesTheLastAdmittedAndPutsItInFront() throws {
        // 4 blocks of 4 tokens; three requests of 5-token prompts need 2 blocks each.
        var s = makeScheduler(maxNumBatchedTokens: 64, maxModelLen: 16, numBlocks: 4)
        try s.addRequest(makeRequest("a", prompt: tokens(5, from: 0), maxTokens: 8))
        try s.addRequest(makeRequest("b", prompt: tokens(3, from: 10), maxTokens: 8))
        try s.addRequest(makeRequest("c", prompt: tokens(5, from: 20), maxTokens: 8))
        var out = s.step(token: 1).output
        #expect(out.scheduled.map(\.id) == ["a", "b"] && s.waiting == ["c"])  // c does not fit
        // b takes the last free block at step 3; at step 5 a needs a third block and the pool is
        // empty, so b — admitted after a — is preempted, not a.
        for _ in 0..<4 where out.preemptedIDs.isEmpty { out = s.step(token: 1).output; checkInvariants(s) }
        #expect(out.preemptedIDs == ["b"] && out.scheduled.map(\.id) == ["a"])
        #expect(out.scheduled[0].blockTable.count == 3 && out.scheduled[0].numComputedTokens == 8)
        #expect(s.waiting == ["b", "c"] && s.running == ["a"])
        let b = try #require(s.requests["b"])
        #expect(b.status == .preempted && b.numComputedTokens == 0 && b.numOutputTokens == 4 && b.numPreemptions == 1)
        #expect(s.kvCache.blockTable(for: "b").isEmpty && s.stats.numPreemptions == 1)
    }

    @Test func theLastAdmittedRequestThatCannotGrowPreemptsItself() throws {
        // 3 blocks: a (5-token prompt) holds 2, b (4-token prompt) holds 1, none free.
        var s = makeScheduler(maxNumBatchedTokens: 64, maxModelLen: 12, numBlocks: 3)
        try s.addRequest(makeRequest("a", prompt: tokens(5, from: 0), maxTokens: 4))
        try s.addRequest(makeRequest("b", prompt: tokens(4, from: 10), maxTokens: 4))
        try s.addRequest(makeRequest("c", prompt: [1], maxTokens: 1))
        s.step()
        let out = s.step().output  // a fits its 6th token; b needs a 2nd block and is the victim
        #expect(out.preemptedIDs == ["b"] && out.scheduled.map(\.id) == ["a"])
        #expect(s.waiting == ["b", "c"])  // nothing admitted in a step that preempted
        checkInvariants(s)
    }

    @Test func preemptionLetsTheSurvivorRunAndTheVictimFinishLater() throws {
        var s = makeScheduler(maxNumBatchedTokens: 64, maxModelLen: 8, numBlocks: 2)
        try s.addRequest(makeRequest("a", prompt: tokens(4, from: 0), maxTokens: 8))
        try s.addRequest(makeRequest("b", prompt: tokens(4, from: 10), maxTokens: 8))
        s.step()
        let out = s.step().output  // both need a second block; b (last admitted) goes, then a grows
        #expect(out.preemptedIDs == ["b"] && out.scheduled.map(\.id) == ["a"])
        checkInvariants(s)
        // a alone can always run to maxModelLen; b then recomputes its prompt and its one output token.
        var finished: [RequestID: Int] = [:]
        for _ in 0..<20 where !s.requests.isEmpty {
            for u in s.step().updates where u.finishReason != nil { finished[u.id] = 1 }
            checkInvariants(s)
        }
        #expect(finished.keys.sorted() == ["a", "b"])
    }

    @Test func preemptedRequestResumesWithoutLosingOrRepeatingTokens() throws {
        var s = makeScheduler(maxNumBatchedTokens: 64, maxModelLen: 16, numBlocks: 4, enablePrefixCaching: false)
        try s.addRequest(makeRequest("a", prompt: tokens(5, from: 0), maxTokens: 6))
        try s.addRequest(makeRequest("b", prompt: tokens(3, from: 10), maxTokens: 6))
        var received: [RequestID: [Int32]] = [:]
        var next: Int32 = 500
        var sawPreemption = false
        var fedAfterPreemption: [Int32] = []
        for _ in 0..<40 where !s.requests.isEmpty {
            let out = s.schedule()
            sawPreemption = sawPreemption || !out.preemptedIDs.isEmpty
            var sampled: [RequestID: [Int32]] = [:]
            for item in out.scheduled {
                if item.id == "b", item.numComputedTokens == 0, sawPreemption { fedAfterPreemption = item.tokenIDs }
                if item.samplesToken { sampled[item.id] = [next]; next += 1 }
            }
            for u in s.updateFromOutput(out, sampledTokens: sampled) { received[u.id, default: []] += u.newTokenIDs }
            checkInvariants(s)
        }
        #expect(sawPreemption && s.requests.isEmpty)
        #expect(received["a"]?.count == 6 && received["b"]?.count == 6)
        // The recompute fed b's prompt followed by the output the client already has.
        #expect(fedAfterPreemption.count > 3 && Array(fedAfterPreemption.prefix(3)) == tokens(3, from: 10))
        #expect(Array(fedAfterPreemption.dropFirst(3)) == Array(received["b"]!.prefix(fedAfterPreemption.count - 3)))
    }

    @Test func prefixCacheHitOnASharedSystemPrompt() throws {
        var s = makeScheduler(maxNumBatchedTokens: 64)
        let system = tokens(16)
        try s.addRequest(makeRequest("a", prompt: system + [1, 2], maxTokens: 4))
        #expect(s.step().output.totalNumScheduledTokens == 18)
        try s.addRequest(makeRequest("b", prompt: system + [3, 4, 5], maxTokens: 4))
        let out = s.step().output
        let b = try #require(out.scheduled.first { $0.id == "b" })
        #expect(b.numComputedTokens == 16 && b.numNewTokens == 3 && b.tokenIDs == [3, 4, 5])
        #expect(Array(b.blockTable.prefix(4)) == Array(s.kvCache.blockTable(for: "a").prefix(4)))
        #expect(s.stats.prefixCacheQueries == 18 + 19 && s.stats.prefixCacheHits == 16)
        checkInvariants(s)
    }

    @Test func cacheDisabledRecomputesEverything() throws {
        var s = makeScheduler(maxNumBatchedTokens: 64, enablePrefixCaching: false)
        try s.addRequest(makeRequest("a", prompt: tokens(16) + [1], maxTokens: 4))
        s.step()
        try s.addRequest(makeRequest("b", prompt: tokens(16) + [2], maxTokens: 4))
        let b = try #require(s.step().output.scheduled.first { $0.id == "b" })
        #expect(b.numComputedTokens == 0 && b.numNewTokens == 17 && s.stats.prefixCacheHits == 0)
    }

    @Test(arguments: [true, false])
    func abortFreesEverythingMidPrefillAndMidDecode(caching: Bool) throws {
        var s = makeScheduler(maxNumBatchedTokens: 8, enablePrefixCaching: caching)
        try s.addRequest(makeRequest("prefill", prompt: tokens(20), maxTokens: 4))
        try s.addRequest(makeRequest("decode", prompt: tokens(3, from: 90), maxTokens: 40))
        try s.addRequest(makeRequest("waiting", prompt: tokens(3, from: 70), maxTokens: 4))
        s.finishRequests(["not-added"], reason: .abort)
        let first = s.schedule()
        #expect(first.scheduled.map(\.id) == ["prefill"])  // budget 8 taken by the first chunk
        _ = s.updateFromOutput(first, sampledTokens: [:])
        let updates = s.finishRequests(["prefill", "waiting", "unknown"], reason: .abort)
        #expect(updates.map(\.id) == ["prefill", "waiting"] && updates.allSatisfy { $0.finishReason == .abort })
        checkInvariants(s)
        #expect(s.step().output.finishedIDs == ["prefill", "waiting"])
        for _ in 0..<2 { s.step() }
        #expect(s.requests["decode"]?.numOutputTokens == 3)
        // Abort between schedule() and updateFromOutput(): the late output is ignored.
        let out = s.schedule()
        s.finishRequests(["decode"], reason: .abort)
        #expect(s.updateFromOutput(out, sampledTokens: ["decode": [1]]).isEmpty)
        checkInvariants(s)
        #expect(s.requests.isEmpty && s.kvCache.numFreeBlocks == 64 && s.kvCache.blockTables.isEmpty)
        #expect(s.schedule().finishedIDs == ["decode"])
    }

    @Test func stopTokensHonourMinTokensAndIgnoreEOS() throws {
        var s = makeScheduler()
        try s.addRequest(makeRequest("eos", prompt: [1], maxTokens: 10, eos: 2))
        try s.addRequest(makeRequest("min", prompt: [1], maxTokens: 10, minTokens: 2, eos: 2))
        try s.addRequest(makeRequest("ignore", prompt: [1], maxTokens: 3, eos: 2, ignoreEOS: true))
        try s.addRequest(makeRequest("stopID", prompt: [1], maxTokens: 10, stop: [2]))
        var finished: [RequestID: Scheduler.RequestUpdate] = [:]
        for _ in 0..<4 { for u in s.step(token: 2).updates where u.finishReason != nil { finished[u.id] = u } }
        #expect(finished["eos"]?.finishReason == .stop && finished["eos"]?.stopTokenID == 2 && finished["eos"]?.newTokenIDs == [2])
        #expect(finished["stopID"]?.finishReason == .stop && finished["stopID"]?.stopTokenID == 2)
        #expect(finished["ignore"]?.finishReason == .length && finished["ignore"]?.stopTokenID == nil)
        #expect(finished["min"]?.finishReason == .stop)
        // As the client sees it: EOS has no stop_reason, a stop token id is its own.
        #expect(finished["eos"]?.finish == Finish(reason: .stop) && finished["min"]?.finish == Finish(reason: .stop))
        #expect(finished["stopID"]?.finish == Finish(reason: .stop, stopReason: .tokenID(2)))
        #expect(finished["ignore"]?.finish == Finish(reason: .length))
        #expect(s.requests.isEmpty)
    }

    @Test func severalSampledTokensStopAtTheFirstStop() throws {
        var s = makeScheduler()
        try s.addRequest(makeRequest("a", prompt: [1, 2], maxTokens: 10, stop: [9]))
        let out = s.schedule()
        let updates = s.updateFromOutput(out, sampledTokens: ["a": [4, 9, 5]])
        #expect(updates == [Scheduler.RequestUpdate(id: "a", newTokenIDs: [4, 9], finishReason: .stop, stopTokenID: 9)])
    }

    @Test func maxModelLenStopsGeneration() throws {
        var s = makeScheduler(maxModelLen: 10)
        try s.addRequest(makeRequest("a", prompt: tokens(7), maxTokens: 100))
        var got: [Int32] = []
        var reason: FinishReason?
        for _ in 0..<10 where reason == nil {
            for u in s.step().updates {
                got += u.newTokenIDs
                reason = u.finishReason
            }
        }
        #expect(got.count == 3 && reason == .length)
        #expect(throws: EngineError.promptTooLong(promptTokens: 10, maxModelLength: 10)) {
            try s.addRequest(makeRequest("b", prompt: tokens(10)))
        }
        #expect(throws: EngineError.emptyPrompt) { try s.addRequest(makeRequest("c", prompt: [])) }
        try s.addRequest(makeRequest("d", prompt: [1]))
        #expect(throws: EngineError.self) { try s.addRequest(makeRequest("d", prompt: [1])) }
    }

    @Test(arguments: [true, false])
    func parallelSamplesShareTheParentsPromptBlocks(caching: Bool) throws {
        var s = makeScheduler(maxNumBatchedTokens: 64, enablePrefixCaching: caching)
        let prompt = tokens(10)
        try s.addRequest(makeRequest("p", prompt: prompt, maxTokens: 5))
        s.step()
        try s.addRequest(makeRequest("p.1", prompt: prompt, maxTokens: 5, forkParent: "p"))
        try s.addRequest(makeRequest("p.2", prompt: prompt, maxTokens: 5, forkParent: "p"))
        let out = s.step().output
        let parent = s.kvCache.blockTable(for: "p")
        for child in ["p.1", "p.2"] as [RequestID] {
            let item = try #require(out.scheduled.first { $0.id == child })
            #expect(item.numComputedTokens == 8 && item.numNewTokens == 2)
            #expect(Array(item.blockTable.prefix(2)) == Array(parent.prefix(2)) && item.blockTable[2] != parent[2])
        }
        #expect(s.kvCache.pool.refCount(of: parent[0]) == 3 && s.kvCache.pool.refCount(of: parent[2]) == 1)
        checkInvariants(s)
        for _ in 0..<10 { s.step(); checkInvariants(s) }
        #expect(s.requests.isEmpty && s.kvCache.numFreeBlocks == 64)
    }

    @Test func priorityPolicyAdmitsAndPreemptsByPriority() throws {
        var s = makeScheduler(maxNumSeqs: 1, policy: .priority)
        try s.addRequest(makeRequest("low", prompt: [1], maxTokens: 2, priority: 5))
        try s.addRequest(makeRequest("high", prompt: [2], maxTokens: 2, priority: -1))
        #expect(s.step().output.scheduled.map(\.id) == ["high"])

        var t = makeScheduler(maxNumBatchedTokens: 64, maxModelLen: 16, numBlocks: 4, policy: .priority)
        try t.addRequest(makeRequest("vip", prompt: tokens(3, from: 0), maxTokens: 8, priority: 0))
        try t.addRequest(makeRequest("bulk", prompt: tokens(3, from: 10), maxTokens: 8, priority: 9))
        try t.addRequest(makeRequest("mid", prompt: tokens(3, from: 20), maxTokens: 8, priority: 1))
        var preempted: [RequestID] = []
        for _ in 0..<6 { preempted += t.step().output.preemptedIDs; checkInvariants(t) }
        #expect(preempted.first == "bulk")
    }
}
