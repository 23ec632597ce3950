import Testing
import TramEngine

@Suite struct BlockKeyTests {
    @Test func hashIsStableAcrossRuns() {
        // Pinned values: a change here would silently split caches shared across restarts.
        let first = BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: 0)
        #expect(first.hash == BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: 0).hash)
        #expect(first.hash == 659_085_505_841_599_073)  // FNV-1a 64 of LE bytes: parent, extra, tokens
        let second = BlockKey(parentHash: first.hash, tokenIDs: [5, 6, 7, 8], extra: 0)
        #expect(second.hash == 553_024_315_160_843_792)
        var h = StableHash()
        h.combine(byte: 0x61)
        #expect(h.value == 0xaf63_dc4c_8601_ec8c)  // FNV-1a 64 of "a", the published test vector
    }

    @Test func saltAndParentChangeTheKey() {
        let a = BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: BlockKey.extraKey(salt: "alice"))
        let b = BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: BlockKey.extraKey(salt: "bob"))
        let none = BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: BlockKey.extraKey(salt: nil))
        #expect(a.hash != b.hash && a != b)
        #expect(a != none && b != none)
        #expect(BlockKey.extraKey(salt: nil) == 0 && BlockKey.extraKey(salt: "") != 0)
        #expect(BlockKey(parentHash: 1, tokenIDs: [1, 2, 3, 4], extra: 0) != none)
        #expect(BlockKey(parentHash: 0, tokenIDs: [1, 2, 4, 3], extra: 0) != none)
    }

    @Test func equalityComparesTokensNotOnlyTheHash() {
        // Two keys built to share a hash but not tokens must differ (collision safety).
        let real = BlockKey(parentHash: 0, tokenIDs: [1, 2, 3, 4], extra: 0)
        let other = BlockKey(forgingHash: real.hash, parentHash: 0, tokenIDs: [9, 9, 9, 9], extra: 0)
        #expect(other.hash == real.hash && other != real)
        var pool = BlockPool(numBlocks: 2)
        let blocks = pool.allocate(1)!
        let cached = pool.cache(blocks[0], as: real)
        #expect(cached)
        #expect(pool.cachedBlock(for: other) == nil)
        #expect(pool.cachedBlock(for: real) == blocks[0])
    }
}
