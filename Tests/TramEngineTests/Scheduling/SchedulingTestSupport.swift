import Testing
import TramEngine
import TramTestSupport

func makeScheduler(
    maxNumSeqs: Int = 8, maxNumBatchedTokens: Int = 64, maxModelLen: Int = 128, blockSize: Int = 4,
    numBlocks: Int = 64, enablePrefixCaching: Bool = true, policy: SchedulerConfig.Policy = .fcfs,
    longPrefillTokenThreshold: Int? = nil
) -> Scheduler {
    Scheduler(config: SchedulerConfig(
        maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens, maxModelLen: maxModelLen,
        blockSize: blockSize, numBlocks: numBlocks, enablePrefixCaching: enablePrefixCaching,
        policy: policy, longPrefillTokenThreshold: longPrefillTokenThreshold))
}

func makeRequest(
    _ id: RequestID, prompt: [Int32], maxTokens: Int = 8, minTokens: Int = 0, eos: Int32? = nil,
    ignoreEOS: Bool = false, stop: Set<Int32> = [], priority: Int = 0, salt: String? = nil,
    forkParent: RequestID? = nil
) -> SchedulerRequest {
    SchedulerRequest(
        id: id, promptTokenIDs: prompt, maxTokens: maxTokens, minTokens: minTokens, eosTokenIDs: ignoreEOS ? [] : Set(eos.map { [$0] } ?? []),
        stopTokenIDs: stop, priority: priority, cacheSalt: salt, forkParent: forkParent)
}

/// Prompt tokens `start ..< start + count`.
func tokens(_ count: Int, from start: Int32 = 1000) -> [Int32] {
    (0..<Int32(count)).map { start + $0 }
}

extension Scheduler {
    /// Runs `schedule()` and feeds back `token` for every request that samples.
    @discardableResult
    mutating func step(token: Int32 = 7) -> (output: SchedulerOutput, updates: [RequestUpdate]) {
        let output = schedule()
        var sampled: [RequestID: [Int32]] = [:]
        for s in output.scheduled where s.samplesToken { sampled[s.id] = [token] }
        return (output, updateFromOutput(output, sampledTokens: sampled))
    }
}

/// The block pool's own invariants: free queue and reference counts partition the blocks.
func checkPoolInvariants(_ pool: BlockPool, sourceLocation: SourceLocation = #_sourceLocation) {
    let queue = pool.freeQueue()
    #expect(queue.count == pool.numFreeBlocks, sourceLocation: sourceLocation)
    #expect(Set(queue).count == queue.count, "a block is queued twice", sourceLocation: sourceLocation)
    let queued = Set(queue)
    for b in 0..<Int32(pool.numBlocks) {
        let free = pool.refCount(of: b) == 0
        #expect(free == queued.contains(b), "block \(b) refCount \(pool.refCount(of: b)) queued \(queued.contains(b))", sourceLocation: sourceLocation)
        if let key = pool.key(of: b) {
            #expect(pool.cachedBlock(for: key) == b, sourceLocation: sourceLocation)
        }
    }
}

/// Every invariant DESIGN.md lists for the scheduler and block manager.
func checkInvariants(_ s: Scheduler, sourceLocation: SourceLocation = #_sourceLocation) {
    let pool = s.kvCache.pool
    let bs = s.config.blockSize
    checkPoolInvariants(pool, sourceLocation: sourceLocation)
    let tables = s.kvCache.blockTables
    // Sum of references equals the tables' total length, block by block.
    var holders: [Int32: Int] = [:]
    for table in tables.values { for b in table { holders[b, default: 0] += 1 } }
    for b in 0..<Int32(pool.numBlocks) {
        #expect(pool.refCount(of: b) == holders[b, default: 0], "block \(b)", sourceLocation: sourceLocation)
    }
    // Only running requests hold blocks, and enough of them; shared blocks are full and computed.
    for (id, table) in tables {
        let r = s.requests[id]
        #expect(r?.status == .running, "\(id) holds blocks while \(String(describing: r?.status))", sourceLocation: sourceLocation)
        if let r {
            #expect(table.count * bs >= r.numComputedTokens, sourceLocation: sourceLocation)
            for (i, b) in table.enumerated() where pool.refCount(of: b) > 1 {
                #expect((i + 1) * bs <= r.numComputedTokens, "\(id) shares unfinished block \(b)", sourceLocation: sourceLocation)
            }
        }
    }
    // Queues agree with statuses and limits.
    #expect(s.running.count <= s.config.maxNumSeqs, sourceLocation: sourceLocation)
    #expect(Set(s.running).count == s.running.count && Set(s.waiting).count == s.waiting.count, sourceLocation: sourceLocation)
    #expect(s.running.count + s.waiting.count == s.requests.count, sourceLocation: sourceLocation)
    for id in s.running { #expect(s.requests[id]?.status == .running, sourceLocation: sourceLocation) }
    for id in s.waiting {
        let status = s.requests[id]?.status
        #expect(status == .waiting || status == .preempted, sourceLocation: sourceLocation)
        #expect(s.requests[id]?.numComputedTokens == 0, sourceLocation: sourceLocation)
    }
}
