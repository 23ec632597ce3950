/// Maps requests onto the block pool: one block table per request, grown on demand as tokens are
/// scheduled (never reserved for `maxTokens`), plus automatic prefix caching of full blocks.
///
/// A request's slots after `allocateSlots`, in tokens (`|` marks block boundaries):
///
///     | computed (incl. prefix hit) | new (this step) | lookahead |   free slots of last block  |
///     0                   numComputedTokens      +numNewTokens  +numLookaheadTokens   table.count * blockSize
///
/// Invariants:
/// - a request's table covers every token it has computed or is about to compute;
/// - each table entry holds one reference on its pool block, so the sum of reference counts
///   equals the total length of all tables;
/// - a block shared by several tables (refCount > 1) is full of computed tokens, so nobody writes
///   into it again. Only full, computed blocks are ever cached or forked, which ensures this;
/// - a request's first `keys.count` blocks have been offered to the prefix cache (chain order).
package struct KVCacheManager: Sendable {
    package let blockSize: Int
    package let enablePrefixCaching: Bool
    package private(set) var pool: BlockPool
    /// Prefix-cache lookups and hits, in tokens (vLLM's `prefix_cache_queries` / `_hits`).
    package private(set) var prefixCacheQueries = 0
    package private(set) var prefixCacheHits = 0
    private var entries: [RequestID: Entry] = [:]

    private struct Entry: Sendable {
        var table: [Int32] = []  // [numBlocks of the request]
        var keys: [BlockKey] = []  // [blocks offered to the cache so far]
    }

    package init(numBlocks: Int, blockSize: Int, enablePrefixCaching: Bool = true) {
        precondition(blockSize > 0, "blockSize must be positive")
        self.blockSize = blockSize
        self.enablePrefixCaching = enablePrefixCaching
        pool = BlockPool(numBlocks: numBlocks)
    }

    package var usage: Double { pool.usage }
    package var numFreeBlocks: Int { pool.numFreeBlocks }

    /// The request's block table (empty when it holds none).
    package func blockTable(for id: RequestID) -> [Int32] {
        entries[id]?.table ?? []
    }

    /// Every non-empty block table; for invariant checks.
    package var blockTables: [RequestID: [Int32]] {
        entries.compactMapValues { $0.table.isEmpty ? nil : $0.table }
    }

    /// The longest chain of cached full blocks that starts `tokens`, stopping short of the last
    /// token: its logits are needed, so it is always recomputed. A 32-token prompt with 16-token
    /// blocks, fully cached, hits only the first block and recomputes 16 tokens.
    package func findCachedPrefix(of tokens: [Int32], extraKey: UInt64) -> PrefixHit {
        guard enablePrefixCaching, !tokens.isEmpty else { return .none }
        let maxBlocks = (tokens.count - 1) / blockSize
        var hit = PrefixHit(blockIDs: [], keys: [], numTokens: 0, numQueriedTokens: tokens.count)
        var parent: UInt64 = 0
        for i in 0..<maxBlocks {
            let key = BlockKey(parentHash: parent, tokenIDs: tokens[i * blockSize..<(i + 1) * blockSize], extra: extraKey)
            guard let block = pool.cachedBlock(for: key) else { break }
            hit.blockIDs.append(block)
            hit.keys.append(key)
            parent = key.hash
        }
        hit.numTokens = hit.blockIDs.count * blockSize
        return hit
    }

    /// The fork parent's full blocks that lie inside the shared prompt and are computed, again
    /// short of the last prompt token. Works with prefix caching disabled; is not a cache query.
    package func sharedPrefix(of parent: RequestID, numPromptTokens: Int, parentComputedTokens: Int) -> PrefixHit {
        guard let table = entries[parent]?.table, numPromptTokens > 0 else { return .none }
        let count = min(min(numPromptTokens - 1, parentComputedTokens) / blockSize, table.count)
        return PrefixHit(blockIDs: Array(table.prefix(count)), keys: [], numTokens: count * blockSize, numQueriedTokens: 0)
    }

    /// Grows the request's table to cover `numComputedTokens + numNewTokens + numLookaheadTokens`
    /// tokens, first taking references on `prefixHit` (allowed only while the table is empty;
    /// `numComputedTokens` then already includes the hit). Returns the whole table, or nil —
    /// changing nothing — when the pool cannot supply the blocks. Cached free blocks of the hit
    /// count against the free blocks, since touching them takes them out of the free queue.
    package mutating func allocateSlots(
        for id: RequestID, numComputedTokens: Int, numNewTokens: Int,
        prefixHit: PrefixHit = .none, numLookaheadTokens: Int = 0
    ) -> [Int32]? {
        var entry = entries[id] ?? Entry()
        precondition(prefixHit.blockIDs.isEmpty || entry.table.isEmpty, "prefix hit for a request that has blocks")
        precondition(numComputedTokens >= prefixHit.numTokens, "computed tokens must include the prefix hit")
        let needed = (numComputedTokens + numNewTokens + numLookaheadTokens + blockSize - 1) / blockSize
        let toAllocate = max(0, needed - entry.table.count - prefixHit.blockIDs.count)
        let evictable = prefixHit.blockIDs.reduce(0) { $0 + (pool.refCount(of: $1) == 0 ? 1 : 0) }
        guard toAllocate + evictable <= pool.numFreeBlocks else { return nil }
        pool.touch(prefixHit.blockIDs)
        guard let fresh = pool.allocate(toAllocate) else { preconditionFailure("free count lied") }
        if !prefixHit.blockIDs.isEmpty {
            entry.table = prefixHit.blockIDs
            entry.keys = prefixHit.keys
        }
        entry.table += fresh
        if prefixHit.numQueriedTokens > 0 {
            prefixCacheQueries += prefixHit.numQueriedTokens
            prefixCacheHits += prefixHit.numTokens
        }
        entries[id] = entry
        return entry.table
    }

    /// Offers the request's blocks that are now full of computed tokens to the prefix cache.
    /// `tokens` are the request's tokens (prompt + output) and must include the computed ones.
    package mutating func cacheFullBlocks(for id: RequestID, tokens: [Int32], numComputedTokens: Int, extraKey: UInt64) {
        guard enablePrefixCaching, var entry = entries[id] else { return }
        let full = min(numComputedTokens, tokens.count) / blockSize
        guard full > entry.keys.count else { return }
        precondition(full <= entry.table.count, "computed tokens beyond the block table")
        entries[id] = nil  // keep `entry` uniquely referenced while it grows
        var parent = entry.keys.last?.hash ?? 0
        for i in entry.keys.count..<full {
            let key = BlockKey(parentHash: parent, tokenIDs: tokens[i * blockSize..<(i + 1) * blockSize], extra: extraKey)
            let block = entry.table[i]
            if pool.key(of: block) == nil { pool.cache(block, as: key) }
            entry.keys.append(key)
            parent = key.hash
        }
        entries[id] = entry
    }

    /// Releases the request's blocks past the first `ceil(numTokens / blockSize)` (the slots of
    /// rejected speculative tokens). Those blocks were never full of computed tokens, so none is
    /// cached or shared.
    package mutating func trim(_ id: RequestID, toTokens numTokens: Int) {
        guard var entry = entries[id] else { return }
        let keep = (numTokens + blockSize - 1) / blockSize
        guard entry.table.count > keep else { return }
        precondition(entry.keys.count <= keep, "trimming a cached block")
        let tail = entry.table[keep...]
        entries[id] = nil
        pool.release(tail.reversed())
        entry.table.removeLast(entry.table.count - keep)
        entries[id] = entry
    }

    /// Releases every block of the request, last block first, so that among its blocks the tail
    /// (the least shareable part of a prefix) is evicted first.
    package mutating func free(_ id: RequestID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        pool.release(entry.table.reversed())
    }
}
