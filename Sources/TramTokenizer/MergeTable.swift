/// Which adjacent pairs of tokens merge, into what, and in which order.
///
/// A pair `(left, right)` of token ids maps to the id of the merged token and its rank; lower
/// ranks merge first. Ranks come from a merges list (its index: rank 0 merges before rank 1)
/// or from SentencePiece scores (higher score merges first; equal scores share a rank, so the
/// leftmost such pair wins, as in llama.cpp).
struct MergeTable: Sendable {
    /// Key `left << 32 | right`, value `rank << 32 | merged`.
    private var entries: [UInt64: UInt64] = [:]

    var count: Int { entries.count }

    /// Adds a rule unless the pair already has one (the first listed rule wins, as in llama.cpp).
    mutating func add(left: Int32, right: Int32, merged: Int32, rank: UInt32) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        if entries[key] == nil {
            entries[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        }
    }

    /// The rank and merged id for a pair, or nil when the pair does not merge.
    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        guard let value = entries[key] else { return nil }
        return (UInt32(truncatingIfNeeded: value >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
    }

    /// Applies the rules to `symbols` until no adjacent pair merges: each round merges the
    /// lowest-ranked pair, the leftmost one among equals.
    func merge(_ symbols: inout [Int32]) {
        if symbols.count < 2 { return }
        if symbols.count <= 64 {
            mergeByScanning(&symbols)
        } else {
            mergeWithHeap(&symbols)
        }
    }

    /// O(n²) but allocation-light, fastest for short words. `ranks[i]` is the rank of the
    /// pair (i, i+1), or `.max` when it does not merge.
    func mergeByScanning(_ symbols: inout [Int32]) {
        var ranks = [UInt32](repeating: .max, count: symbols.count - 1)
        var mergedIDs = [Int32](repeating: -1, count: symbols.count - 1)
        for i in 0..<(symbols.count - 1) {
            if let pair = rule(symbols[i], symbols[i + 1]) {
                ranks[i] = pair.rank
                mergedIDs[i] = pair.merged
            }
        }
        while !ranks.isEmpty {
            var best = 0
            for i in 1..<ranks.count where ranks[i] < ranks[best] { best = i }
            if ranks[best] == .max { break }
            symbols[best] = mergedIDs[best]
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            mergedIDs.remove(at: best)
            for i in [best - 1, best] where i >= 0 && i < ranks.count {
                if let pair = rule(symbols[i], symbols[i + 1]) {
                    ranks[i] = pair.rank
                    mergedIDs[i] = pair.merged
                } else {
                    ranks[i] = .max
                }
            }
        }
    }

    /// O(n log n) for long words (SentencePiece encodes a whole sentence as one word).
    ///
    /// Symbols form a linked list over their original positions; a min-heap holds candidate
    /// pairs keyed `rank << 32 | position`, so equal ranks pop leftmost first. Entries go
    /// stale when a neighbour merges; rather than deleting them, a popped entry is used only
    /// if its pair still exists with the same rank.
    func mergeWithHeap(_ symbols: inout [Int32]) {
        let count = symbols.count
        var next = Array(1...count)  // count means none
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()
        for i in 0..<(count - 1) {
            if let pair = rule(symbols[i], symbols[i + 1]) { heap.push(UInt64(pair.rank) << 32 | UInt64(i)) }
        }
        while let entry = heap.pop() {
            let position = Int(entry & 0xFFFF_FFFF)
            let rank = UInt32(entry >> 32)
            guard alive[position], next[position] < count else { continue }
            let right = next[position]
            guard let current = rule(symbols[position], symbols[right]), current.rank == rank else { continue }
            symbols[position] = current.merged
            alive[right] = false
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0, let left = rule(symbols[previous[position]], symbols[position]) {
                heap.push(UInt64(left.rank) << 32 | UInt64(previous[position]))
            }
            if next[position] < count, let after = rule(symbols[position], symbols[next[position]]) {
                heap.push(UInt64(after.rank) << 32 | UInt64(position))
            }
        }
        var result: [Int32] = []
        result.reserveCapacity(count)
        var i = 0
        while i < count {
            result.append(symbols[i])
            i = next[i]
        }
        symbols = result
    }
}
