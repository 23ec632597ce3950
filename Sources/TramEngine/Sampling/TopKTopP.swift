#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token still in the running for the draw: its (temperature-scaled) logit and id.
package struct Candidate: Sendable, Equatable {
    package var logit: Float
    package var id: Int32

    package init(logit: Float, id: Int32) {
        self.logit = logit
        self.id = id
    }

    /// The order every truncation uses: larger logit first, lower id first on ties, so what is
    /// kept never depends on chance or on the sort algorithm.
    @inline(__always)
    static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
        a.logit != b.logit ? a.logit > b.logit : a.id < b.id
    }
}

/// Top-k and top-p truncation and the draw, over a candidate buffer, without sorting the
/// vocabulary: the candidates become a binary max-heap (O(V)) and only the tokens kept are
/// popped (O(kept · log V)). Popped tokens collect at the end of the buffer, largest last:
///
///     [ heap (not kept) ........ | kept, ascending ... largest ]
///     0                         end                           n
///
/// Semantics follow vLLM's `apply_top_k_top_p`:
/// - top-k keeps every token whose logit is at least the k-th largest (ties at the boundary stay);
/// - top-p, over what top-k kept, keeps a token when the probability of the tokens ranked above
///   it is below `topP` (renormalised over the kept set): the smallest prefix reaching `topP`.
package enum TopKTopP {
    /// Truncates `candidates` in place and returns the range of the kept ones.
    /// - Parameters:
    ///   - topK: a count ≥ 1, or nil for no top-k.
    ///   - topP: in (0, 1]; 1 disables top-p.
    package static func truncate(_ c: UnsafeMutableBufferPointer<Candidate>, topK: Int?, topP: Float) -> Range<Int> {
        let n = c.count
        let limitK = topK.map { $0 < n } ?? false
        let limitP = topP < 1
        guard n > 1, limitK || limitP else { return 0..<n }
        heapify(c)
        let maxLogit = c[0].logit
        var end = n
        if limitK, let k = topK {
            for _ in 0..<k { pop(c, end: &end) }
            let kth = c[end].logit
            while end > 0, c[0].logit == kth { pop(c, end: &end) }
            guard limitP else { return end..<n }
            var total: Float = 0
            for i in end..<n { total += expf(c[i].logit - maxLogit) }
            let threshold = topP * total
            var cumulative: Float = 0
            var i = n - 1
            while i >= end {
                if i < n - 1, cumulative >= threshold { break }
                cumulative += expf(c[i].logit - maxLogit)
                i -= 1
            }
            return (i + 1)..<n
        }
        var total: Float = 0
        for i in 0..<n { total += expf(c[i].logit - maxLogit) }
        let threshold = topP * total
        var cumulative: Float = 0
        repeat {
            pop(c, end: &end)
            cumulative += expf(c[end].logit - maxLogit)
        } while end > 0 && cumulative < threshold
        return end..<n
    }

    /// Draws one id from softmax over `kept` with `coin` uniform in [0, 1): inverse CDF, walking
    /// the buffer in its order. Overwrites the logits with unnormalised probabilities.
    package static func draw(_ kept: UnsafeMutableBufferPointer<Candidate>, coin: Float) -> Int {
        precondition(!kept.isEmpty, "draw needs at least one candidate")
        var maxLogit = -Float.infinity
        for c in kept { maxLogit = max(maxLogit, c.logit) }
        var total: Float = 0
        for i in kept.indices {
            let e = expf(kept[i].logit - maxLogit)
            kept[i].logit = e
            total += e
        }
        let u = coin * total
        var cumulative: Float = 0
        for c in kept {
            cumulative += c.logit
            if u < cumulative { return Int(c.id) }
        }
        // Rounding left u at the very top: the last token with any probability.
        for c in kept.reversed() where c.logit > 0 { return Int(c.id) }
        return Int(kept[kept.count - 1].id)
    }

    // MARK: Heap over c[0..<end], root = the candidate that precedes all others.

    private static func heapify(_ c: UnsafeMutableBufferPointer<Candidate>) {
        var i = c.count / 2
        while i > 0 {
            i -= 1
            siftDown(c, from: i, end: c.count)
        }
    }

    /// Moves the root to c[end - 1] and shrinks the heap by one.
    private static func pop(_ c: UnsafeMutableBufferPointer<Candidate>, end: inout Int) {
        end -= 1
        c.swapAt(0, end)
        siftDown(c, from: 0, end: end)
    }

    private static func siftDown(_ c: UnsafeMutableBufferPointer<Candidate>, from start: Int, end: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < end else { return }
            var best = left
            let right = left + 1
            if right < end, Candidate.precedes(c[right], c[left]) { best = right }
            guard Candidate.precedes(c[best], c[parent]) else { return }
            c.swapAt(parent, best)
            parent = best
        }
    }
}
