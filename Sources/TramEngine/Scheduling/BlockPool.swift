/// The bookkeeping half of the paged KV cache: which of `numBlocks` physical blocks are in use,
/// by how many block tables, and which free blocks still hold a reusable cached prefix. It knows
/// nothing of tokens or requests; `KVCacheManager` maps requests onto it.
///
/// Invariants (tests check them after every scheduler step):
/// - every block is either **referenced** (`refCount > 0`, not in the free queue) or **free**
///   (`refCount == 0`, linked in the free queue) — never both, never neither;
/// - the free queue is in LRU order. Allocation pops the head; a block whose count drops to 0 is
///   appended at the tail; a cache hit on a free block unlinks it from wherever it sits, in O(1):
///
///         head                                         tail
///          [7] ⇄ [2] ⇄ [9] ⇄ [4]        allocate() → 7 (its cache key is evicted)
///                       ↑                touch([9]) → unlinked, refCount 1
///                                        release([5]) → appended after 4
///
/// - a block has a cache key exactly when the cache map sends that key to it. A free block keeps
///   its key (and stays reusable) until it is popped for a new allocation.
///
/// Block 0 is an ordinary block: Tram sends each sequence's exact block table to the model, so
/// no padding ("null") block is needed.
package struct BlockPool: Sendable {
    package let numBlocks: Int
    package private(set) var numFreeBlocks: Int
    private var refCounts: [Int32]  // [numBlocks]
    /// Free-queue links, `none` at the ends and for referenced blocks. // [numBlocks]
    private var previous: [Int32]
    private var next: [Int32]
    private var head: Int32
    private var tail: Int32
    private var keys: [BlockKey?]  // [numBlocks]
    private var cachedBlocks: [BlockKey: Int32]

    private static let none: Int32 = -1

    /// All blocks start free, queued in id order.
    package init(numBlocks: Int) {
        precondition(numBlocks > 0 && numBlocks < Int(Int32.max), "numBlocks out of range")
        self.numBlocks = numBlocks
        numFreeBlocks = numBlocks
        refCounts = Array(repeating: 0, count: numBlocks)
        previous = (0..<numBlocks).map { Int32($0) - 1 }
        next = (0..<numBlocks).map { $0 + 1 < numBlocks ? Int32($0 + 1) : Self.none }
        head = 0
        tail = Int32(numBlocks - 1)
        keys = Array(repeating: nil, count: numBlocks)
        cachedBlocks = [:]
    }

    /// Fraction of blocks referenced by some block table (cached-but-free blocks count as free).
    package var usage: Double {
        Double(numBlocks - numFreeBlocks) / Double(numBlocks)
    }

    /// Number of blocks that currently hold a reusable cache key (referenced or free).
    package var numCachedBlocks: Int { cachedBlocks.count }

    package func refCount(of block: Int32) -> Int { Int(refCounts[Int(block)]) }

    package func key(of block: Int32) -> BlockKey? { keys[Int(block)] }

    /// The free queue from head (evicted next) to tail (freed last). O(numFree); for tests.
    package func freeQueue() -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(numFreeBlocks)
        var block = head
        while block != Self.none {
            result.append(block)
            block = next[Int(block)]
        }
        return result
    }

    /// Takes `count` blocks from the head of the free queue with reference count 1, evicting any
    /// cache key they held. Returns nil, changing nothing, when fewer than `count` are free.
    package mutating func allocate(_ count: Int) -> [Int32]? {
        guard count <= numFreeBlocks else { return nil }
        var result: [Int32] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let block = head
            unlink(block)
            if let key = keys[Int(block)] {
                cachedBlocks[key] = nil
                keys[Int(block)] = nil
            }
            refCounts[Int(block)] = 1
            result.append(block)
        }
        return result
    }

    /// Adds a reference to each block (a prefix-cache hit or a shared fork), taking free ones out
    /// of the free queue.
    package mutating func touch(_ blocks: some Sequence<Int32>) {
        for block in blocks {
            if refCounts[Int(block)] == 0 { unlink(block) }
            refCounts[Int(block)] += 1
        }
    }

    /// Drops one reference from each block in the given order; blocks reaching 0 join the tail of
    /// the free queue in that order (so pass a table reversed to have its tail evicted first).
    package mutating func release(_ blocks: some Sequence<Int32>) {
        for block in blocks {
            precondition(refCounts[Int(block)] > 0, "releasing free block \(block)")
            refCounts[Int(block)] -= 1
            if refCounts[Int(block)] == 0 { append(block) }
        }
    }

    /// The block caching `key`, referenced or free.
    package func cachedBlock(for key: BlockKey) -> Int32? {
        cachedBlocks[key]
    }

    /// Records that referenced `block` is full of computed tokens identified by `key`. Returns
    /// false (leaving the block uncached) when the block already has a key or another block
    /// already caches the same contents: the first copy stays the one later requests reuse.
    @discardableResult
    package mutating func cache(_ block: Int32, as key: BlockKey) -> Bool {
        precondition(refCounts[Int(block)] > 0, "caching free block \(block)")
        guard keys[Int(block)] == nil, cachedBlocks[key] == nil else { return false }
        keys[Int(block)] = key
        cachedBlocks[key] = block
        return true
    }

    private mutating func unlink(_ block: Int32) {
        let p = previous[Int(block)], n = next[Int(block)]
        if p == Self.none { head = n } else { next[Int(p)] = n }
        if n == Self.none { tail = p } else { previous[Int(n)] = p }
        previous[Int(block)] = Self.none
        next[Int(block)] = Self.none
        numFreeBlocks -= 1
    }

    private mutating func append(_ block: Int32) {
        previous[Int(block)] = tail
        next[Int(block)] = Self.none
        if tail == Self.none { head = block } else { next[Int(tail)] = block }
        tail = block
        numFreeBlocks += 1
    }
}
