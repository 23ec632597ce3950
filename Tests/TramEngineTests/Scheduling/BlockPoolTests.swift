import Testing
import TramTestSupport
import TramEngine

@Suite struct BlockPoolTests {
    func key(_ n: Int32) -> BlockKey { BlockKey(parentHash: 0, tokenIDs: [n], extra: 0) }

    @Test func allocatesFromTheHeadAndFreesToTheTail() {
        var pool = BlockPool(numBlocks: 4)
        #expect(pool.freeQueue() == [0, 1, 2, 3])
        let a = pool.allocate(2)!
        #expect(a == [0, 1] && pool.numFreeBlocks == 2 && pool.usage == 0.5)
        pool.release([1, 0])
        #expect(pool.freeQueue() == [2, 3, 1, 0])
        #expect(pool.allocate(3) == [2, 3, 1])
        #expect(pool.allocate(2) == nil)
        #expect(pool.freeQueue() == [0])
        checkPoolInvariants(pool)
    }

    @Test func touchTakesACachedBlockOutOfTheMiddle() {
        var pool = BlockPool(numBlocks: 4)
        let blocks = pool.allocate(4)!
        for b in blocks { pool.cache(b, as: key(b)) }
        pool.release(blocks)
        #expect(pool.freeQueue() == [0, 1, 2, 3])
        #expect(pool.cachedBlock(for: key(2)) == 2)
        pool.touch([2])
        #expect(pool.freeQueue() == [0, 1, 3] && pool.refCount(of: 2) == 1)
        pool.touch([2])
        #expect(pool.refCount(of: 2) == 2)
        pool.release([2])
        #expect(pool.freeQueue() == [0, 1, 3])
        pool.release([2])
        #expect(pool.freeQueue() == [0, 1, 3, 2])
        checkPoolInvariants(pool)
    }

    @Test func allocationEvictsTheKeyOfThePoppedBlockOnly() {
        var pool = BlockPool(numBlocks: 3)
        let blocks = pool.allocate(3)!
        for b in blocks { pool.cache(b, as: key(b)) }
        pool.release(blocks)
        #expect(pool.numCachedBlocks == 3)
        #expect(pool.allocate(1) == [0])
        #expect(pool.cachedBlock(for: key(0)) == nil && pool.key(of: 0) == nil)
        #expect(pool.cachedBlock(for: key(1)) == 1 && pool.cachedBlock(for: key(2)) == 2)
        checkPoolInvariants(pool)
    }

    @Test func aSecondCopyOfCachedContentsStaysUncached() {
        var pool = BlockPool(numBlocks: 2)
        let blocks = pool.allocate(2)!
        let first = pool.cache(blocks[0], as: key(5))
        let copy = pool.cache(blocks[1], as: key(5))
        let rekey = pool.cache(blocks[0], as: key(6))
        #expect(first && !copy && !rekey)
        #expect(pool.cachedBlock(for: key(5)) == blocks[0] && pool.key(of: blocks[1]) == nil)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomizedOperationsKeepThePoolConsistent(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var pool = BlockPool(numBlocks: 16)
        var held: [Int32] = []  // one entry per reference we own
        var nextKey: Int32 = 0
        for _ in 0..<600 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let n = Int.random(in: 0...5, using: &rng)
                let before = pool.numFreeBlocks
                if let got = pool.allocate(n) {
                    held += got
                    for b in got where Bool.random(using: &rng) {
                        pool.cache(b, as: key(nextKey))
                        nextKey += 1
                    }
                } else {
                    #expect(n > before && pool.numFreeBlocks == before)
                }
            case 1 where !held.isEmpty:
                let i = Int.random(in: held.indices, using: &rng)
                pool.release([held.remove(at: i)])
            case 2:
                // Reuse a cached block, free or not.
                let b = Int32.random(in: 0..<16, using: &rng)
                if let k = pool.key(of: b), pool.cachedBlock(for: k) == b {
                    pool.touch([b])
                    held.append(b)
                }
            default:
                if let b = held.randomElement(using: &rng) {
                    pool.touch([b])
                    held.append(b)
                }
            }
            checkPoolInvariants(pool)
            for b in 0..<Int32(16) {
                #expect(pool.refCount(of: b) == held.filter { $0 == b }.count)
            }
        }
    }
}
