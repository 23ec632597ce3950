import Foundation
import Testing
import TramEngine

/// Aborts are O(1) per request in the size of the waiting queue: a client that asks for 100,000
/// samples and hangs up must not stall the engine (issue: a `removeAll` per aborted id made it
/// quadratic, minutes for 100,000).
@Suite struct SchedulerAbortTests {
    @Test func aborting100000WaitingRequestsIsLinear() throws {
        var s = makeScheduler(maxNumSeqs: 4, maxNumBatchedTokens: 64, numBlocks: 64)
        let count = 100_000
        let ids = (0..<count).map { RequestID("r\($0)") }
        for id in ids { try s.addRequest(makeRequest(id, prompt: [1, 2, 3], maxTokens: 4)) }
        s.step()
        #expect(s.stats.numRunning == 4 && s.stats.numWaiting == count - 4)

        let clock = ContinuousClock()
        let elapsed = clock.measure { s.finishRequests(ids, reason: .abort) }
        #expect(s.requests.isEmpty && s.stats.numWaiting == 0 && s.stats.numRunning == 0 && s.waiting.isEmpty)
        #expect(s.kvCache.numFreeBlocks == 64)
        // Linear work is a few tens of milliseconds; the quadratic queue search took minutes.
        #expect(elapsed < .seconds(5), "aborting \(count) waiting requests took \(elapsed)")
        #expect(s.schedule().finishedIDs.count == count)
        checkInvariants(s)
    }

    @Test func abortedWaitingRequestsAreSkippedAndTheRestKeepTheirOrder() throws {
        for policy in [SchedulerConfig.Policy.fcfs, .priority] {
            var s = makeScheduler(maxNumSeqs: 2, maxNumBatchedTokens: 64, policy: policy)
            for i in 0..<200 { try s.addRequest(makeRequest(RequestID("r\(i)"), prompt: [Int32(i + 1)], maxTokens: 1, priority: i % 3)) }
            // Every request but those divisible by 50: enough tombstones to be swept.
            s.finishRequests((0..<200).filter { $0 % 50 != 0 }.map { RequestID("r\($0)") }, reason: .abort)
            checkInvariants(s)
            #expect(s.waiting == ["r0", "r50", "r100", "r150"], "\(policy)")
            #expect(s.stats.numWaiting == 4)
            var admitted: [RequestID] = []
            while !s.requests.isEmpty {
                let out = s.step().output
                admitted += out.scheduled.filter { $0.numComputedTokens == 0 }.map(\.id)
                checkInvariants(s)
            }
            // FCFS: arrival order. Priority: r0 and r150 (priority 0), then r100 (1), r50 (2).
            #expect(admitted == (policy == .fcfs ? ["r0", "r50", "r100", "r150"] : ["r0", "r150", "r100", "r50"]), "\(policy)")
        }
    }

    /// A request id used again after its first request was aborted while waiting: the old
    /// queue entry must not stand for the new request (it would be admitted twice).
    @Test func anIdReusedAfterAnAbortIsQueuedOnce() throws {
        var s = makeScheduler(maxNumSeqs: 1)
        try s.addRequest(makeRequest("busy", prompt: tokens(4), maxTokens: 3))
        try s.addRequest(makeRequest("x", prompt: tokens(4, from: 10), maxTokens: 3))
        s.step()
        s.finishRequests(["x"], reason: .abort)
        try s.addRequest(makeRequest("x", prompt: tokens(4, from: 20), maxTokens: 3))
        #expect(s.waiting == ["x"] && s.stats.numWaiting == 1)
        var scheduledX = 0
        while !s.requests.isEmpty {
            scheduledX += s.step().output.scheduled.filter { $0.id == "x" && $0.numComputedTokens == 0 }.count
            checkInvariants(s)
        }
        #expect(scheduledX == 1)
    }
}
