import Testing
import TramEngine

@Suite struct KVCacheManagerTests {
    /// Admits `id` over `prompt` with a prefix lookup, computes the whole prompt, caches it.
    func run(_ kv: inout KVCacheManager, _ id: RequestID, _ prompt: [Int32], salt: UInt64 = 0) -> PrefixHit {
        let hit = kv.findCachedPrefix(of: prompt, extraKey: salt)
        let table = kv.allocateSlots(for: id, numComputedTokens: hit.numTokens, numNewTokens: prompt.count - hit.numTokens, prefixHit: hit)
        #expect(table != nil)
        kv.cacheFullBlocks(for: id, tokens: prompt, numComputedTokens: prompt.count, extraKey: salt)
        return hit
    }

    @Test func growsTablesOnDemand() {
        var kv = KVCacheManager(numBlocks: 8, blockSize: 4)
        #expect(kv.allocateSlots(for: "a", numComputedTokens: 0, numNewTokens: 5)?.count == 2)
        #expect(kv.allocateSlots(for: "a", numComputedTokens: 5, numNewTokens: 3)?.count == 2)
        #expect(kv.allocateSlots(for: "a", numComputedTokens: 8, numNewTokens: 1)?.count == 3)
        #expect(kv.allocateSlots(for: "a", numComputedTokens: 9, numNewTokens: 1, numLookaheadTokens: 3)?.count == 4)
        #expect(kv.usage == 0.5)
    }

    @Test func failedAllocationChangesNothing() {
        var kv = KVCacheManager(numBlocks: 4, blockSize: 4)
        let table = kv.allocateSlots(for: "a", numComputedTokens: 0, numNewTokens: 8)!
        #expect(kv.allocateSlots(for: "a", numComputedTokens: 8, numNewTokens: 9) == nil)
        #expect(kv.allocateSlots(for: "b", numComputedTokens: 0, numNewTokens: 9) == nil)
        #expect(kv.blockTable(for: "a") == table && kv.blockTable(for: "b").isEmpty && kv.numFreeBlocks == 2)
        checkPoolInvariants(kv.pool)
    }

    @Test func sharedSystemPromptHitsTheCache() {
        var kv = KVCacheManager(numBlocks: 16, blockSize: 4)
        let system = tokens(8)
        #expect(run(&kv, "a", system + [1, 2, 3]).numTokens == 0)
        #expect(kv.prefixCacheQueries == 11 && kv.prefixCacheHits == 0)
        let hit = run(&kv, "b", system + [4, 5, 6, 7, 8])
        #expect(hit.numTokens == 8 && hit.blockIDs == Array(kv.blockTable(for: "a").prefix(2)))
        #expect(kv.prefixCacheQueries == 11 + 13 && kv.prefixCacheHits == 8)
        for b in hit.blockIDs { #expect(kv.pool.refCount(of: b) == 2) }
        // A different salt sees nothing.
        #expect(kv.findCachedPrefix(of: system + [9], extraKey: BlockKey.extraKey(salt: "x")).numTokens == 0)
    }

    @Test func fullPromptHitStillRecomputesTheLastToken() {
        var kv = KVCacheManager(numBlocks: 16, blockSize: 4)
        let prompt = tokens(12)
        _ = run(&kv, "a", prompt)
        kv.free("a")
        let hit = kv.findCachedPrefix(of: prompt, extraKey: 0)
        #expect(hit.numTokens == 8)  // the third block holds the last token, so it is recomputed
        #expect(kv.findCachedPrefix(of: prompt + [1], extraKey: 0).numTokens == 12)
        #expect(kv.findCachedPrefix(of: Array(prompt.prefix(9)), extraKey: 0).numTokens == 8)
        #expect(kv.findCachedPrefix(of: Array(prompt.prefix(8)), extraKey: 0).numTokens == 4)
    }

    @Test func freedCachedBlocksAreEvictedTailFirstInLRUOrder() {
        var kv = KVCacheManager(numBlocks: 6, blockSize: 4)
        _ = run(&kv, "old", tokens(8, from: 100))  // blocks 0, 1
        _ = run(&kv, "new", tokens(8, from: 200))  // blocks 2, 3
        kv.free("old")
        kv.free("new")
        // Unused blocks first, then old's tail, old's head, new's tail, new's head.
        #expect(kv.pool.freeQueue() == [4, 5, 1, 0, 3, 2])
        #expect(kv.allocateSlots(for: "x", numComputedTokens: 0, numNewTokens: 12) == [4, 5, 1])
        // old's second block is gone, its first still hits; new is whole.
        #expect(kv.findCachedPrefix(of: tokens(8, from: 100) + [0], extraKey: 0).numTokens == 4)
        #expect(kv.findCachedPrefix(of: tokens(8, from: 200) + [0], extraKey: 0).numTokens == 8)
        // Reusing a free cached block takes it out of the queue, and counts against free blocks.
        let hit = kv.findCachedPrefix(of: tokens(8, from: 200) + [0], extraKey: 0)
        #expect(kv.pool.freeQueue() == [0, 3, 2])
        #expect(kv.allocateSlots(for: "y", numComputedTokens: 8, numNewTokens: 5, prefixHit: hit) == nil)
        #expect(kv.allocateSlots(for: "y", numComputedTokens: 8, numNewTokens: 1, prefixHit: hit) == [2, 3, 0])
        #expect(kv.pool.freeQueue().isEmpty)
        checkPoolInvariants(kv.pool)
    }

    @Test func disabledCacheNeverHits() {
        var kv = KVCacheManager(numBlocks: 16, blockSize: 4, enablePrefixCaching: false)
        _ = run(&kv, "a", tokens(12))
        #expect(run(&kv, "b", tokens(12)).numTokens == 0)
        #expect(kv.pool.numCachedBlocks == 0 && kv.prefixCacheQueries == 0)
    }

    @Test func forkSharesOnlyFullComputedPromptBlocks() {
        for caching in [true, false] {
            var kv = KVCacheManager(numBlocks: 16, blockSize: 4, enablePrefixCaching: caching)
            let prompt = tokens(10)
            _ = run(&kv, "p", prompt)
            let shared = kv.sharedPrefix(of: "p", numPromptTokens: 10, parentComputedTokens: 10)
            #expect(shared.numTokens == 8 && shared.numQueriedTokens == 0)
            let child = kv.allocateSlots(for: "c", numComputedTokens: 8, numNewTokens: 2, prefixHit: shared)!
            let parent = kv.blockTable(for: "p")
            #expect(Array(child.prefix(2)) == Array(parent.prefix(2)) && child[2] != parent[2])
            #expect(kv.pool.refCount(of: parent[0]) == 2 && kv.pool.refCount(of: parent[2]) == 1)
            // Only computed blocks are shared; an exactly block-aligned prompt keeps its last block.
            #expect(kv.sharedPrefix(of: "p", numPromptTokens: 10, parentComputedTokens: 5).numTokens == 4)
            #expect(kv.sharedPrefix(of: "p", numPromptTokens: 8, parentComputedTokens: 10).numTokens == 4)
            kv.free("p")
            #expect(kv.pool.refCount(of: parent[0]) == 1)
            kv.free("c")
            #expect(kv.numFreeBlocks == 16)
            checkPoolInvariants(kv.pool)
        }
    }
}
