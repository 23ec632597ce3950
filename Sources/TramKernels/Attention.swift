#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paged KV storage for one layer and the attention kernel that reads it.
///
/// K and V each hold `numBlocks × numKVHeads × blockSize × headDim` floats:
///
///     block b ─┬─ kv head 0: [blockSize, headDim]   ← one head's keys are contiguous in a block
///              ├─ kv head 1: [blockSize, headDim]
///              └─ …
///
/// A token's slot is `block · blockSize + offset`; a sequence's block table lists its blocks in
/// logical order. The kernel needs nothing else, so sequences of any length share one pool.
public struct PagedKVLayout: Sendable, Equatable {
    public let numBlocks: Int
    public let blockSize: Int
    public let numKVHeads: Int
    public let headDim: Int

    public init(numBlocks: Int, blockSize: Int, numKVHeads: Int, headDim: Int) {
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        self.numKVHeads = numKVHeads
        self.headDim = headDim
    }

    /// Floats per block for one of K or V.
    public var blockStride: Int { numKVHeads * blockSize * headDim }
    /// Floats for one of K or V of one layer.
    public var layerFloats: Int { numBlocks * blockStride }

    /// Offset of token slot `slot`'s vector for `kvHead`.
    @inline(__always) public func offset(slot: Int, kvHead: Int) -> Int {
        let block = slot / blockSize, within = slot % blockSize
        return block * blockStride + (kvHead * blockSize + within) * headDim
    }
}

/// Writes new keys and values into their slots.
/// - Parameters:
///   - k, v: `[tokens, numKVHeads · headDim]`, rows `rowStride` floats apart.
///   - slots: `[tokens]` slot numbers.
public func writeKV(
    layout: PagedKVLayout, keyCache: UnsafeMutablePointer<Float>, valueCache: UnsafeMutablePointer<Float>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, rowStride: Int, tokens: Int, slots: UnsafePointer<Int32>
) {
    let d = layout.headDim
    for t in 0..<tokens {
        let slot = Int(slots[t])
        for h in 0..<layout.numKVHeads {
            let dst = layout.offset(slot: slot, kvHead: h)
            (keyCache + dst).update(from: k + t * rowStride + h * d, count: d)
            (valueCache + dst).update(from: v + t * rowStride + h * d, count: d)
        }
    }
}

/// Causal attention of one query token and one head against the first `contextLength` cached
/// tokens of a sequence, reading K/V block by block with an online softmax (one pass, no score
/// buffer proportional to the context).
///
/// - Parameters:
///   - q: `[headDim]`; out: `[headDim]`.
///   - blockTable: the sequence's physical blocks in logical order.
///   - contextLength: keys `0..<contextLength` are attended (the query's own position included).
///   - scratch: at least `attentionScratchFloats(layout:heads: 1)` floats, owned by the calling thread.
public func attendOneHead(
    layout: PagedKVLayout, keyCache: UnsafePointer<Float>, valueCache: UnsafePointer<Float>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, scratch: UnsafeMutablePointer<Float>
) {
    attendHeadGroup(layout: layout, keyCache: keyCache, valueCache: valueCache, q: q, out: out, heads: 1,
                    kvHead: kvHead, scale: scale, blockTable: blockTable, contextLength: contextLength, scratch: scratch)
}

/// Floats of scratch `attendHeadGroup` needs for `heads` query heads.
public func attentionScratchFloats(layout: PagedKVLayout, heads: Int) -> Int {
    heads * (layout.blockSize + layout.headDim + 2)
}

/// `attendOneHead` for the `heads` query heads that share one KV head (grouped-query attention),
/// block by block: each block's keys and values are read from memory once and used by every
/// head while they sit in L1, instead of once per head. Each head's arithmetic is exactly
/// `attendOneHead`'s, in the same order, so results are bitwise the same.
///
/// - Parameters:
///   - q, out: `[heads, headDim]`, the group's heads contiguous (as in a `[numHeads · headDim]` row).
///   - scratch: at least `attentionScratchFloats(layout:heads:)` floats.
public func attendHeadGroup(
    layout: PagedKVLayout, keyCache: UnsafePointer<Float>, valueCache: UnsafePointer<Float>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, heads: Int, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, scratch: UnsafeMutablePointer<Float>
) {
    let d = layout.headDim, bs = layout.blockSize
    // Per head g: scores [blockSize] at g·bs, accumulator [headDim], running max and sum.
    let scoreBase = scratch
    let accBase = scratch + heads * bs
    let runningMax = accBase + heads * d
    let runningSum = runningMax + heads
    accBase.initialize(repeating: 0, count: heads * d)
    runningMax.initialize(repeating: -Float.infinity, count: heads)
    runningSum.initialize(repeating: 0, count: heads)
    var start = 0
    var logical = 0
    while start < contextLength {
        let n = min(bs, contextLength - start)
        let base = Int(blockTable[logical]) * layout.blockStride + kvHead * bs * d
        let keys = keyCache + base
        let values = valueCache + base
        for g in 0..<heads {
            let scores = scoreBase + g * bs, acc = accBase + g * d, qg = q + g * d
            var blockMax = -Float.infinity
            for j in 0..<n {
                let s = dotProduct(qg, keys + j * d, count: d) * scale
                scores[j] = s
                blockMax = max(blockMax, s)
            }
            let newMax = max(runningMax[g], blockMax)
            // Rescale what was accumulated under the old maximum.
            let correction = runningMax[g] == -Float.infinity ? 0 : expf(runningMax[g] - newMax)
            if correction != 1 {
                for i in 0..<d { acc[i] *= correction }
            }
            var sum = runningSum[g] * correction
            // The block's weights e^(s − max), 16 at a time (blocks are usually 16 tokens).
            var j = 0
            while j + 16 <= n {
                store16(scores, j, exp16(load16(scores, j) - SIMD16(repeating: newMax)))
                j += 16
            }
            while j < n {
                scores[j] = expf(scores[j] - newMax)
                j += 1
            }
            for j in 0..<n { sum += scores[j] }
            if d % 16 == 0 {
                // Lanes outer, keys inner: each 16-lane slice of the accumulator stays in a
                // register across the block instead of a load and a store per key.
                var c = 0
                while c < d {
                    var a = load16(acc, c)
                    for j in 0..<n { a = a.addingProduct(SIMD16(repeating: scores[j]), load16(values + j * d, c)) }
                    store16(acc, c, a)
                    c += 16
                }
            } else {
                for j in 0..<n { axpy(scores[j], values + j * d, acc, count: d) }
            }
            runningMax[g] = newMax
            runningSum[g] = sum
        }
        start += n
        logical += 1
    }
    for g in 0..<heads {
        let inv = 1 / runningSum[g]
        for i in 0..<d { out[g * d + i] = accBase[g * d + i] * inv }
    }
}

@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var i = 0
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    while i + 32 <= count {
        acc0 = acc0.addingProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self),
                                  UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self))
        acc1 = acc1.addingProduct(UnsafeRawPointer(a + i + 16).loadUnaligned(as: SIMD16<Float>.self),
                                  UnsafeRawPointer(b + i + 16).loadUnaligned(as: SIMD16<Float>.self))
        i += 32
    }
    while i + 16 <= count {
        acc0 = acc0.addingProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self),
                                  UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self))
        i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < count {
        s += a[i] * b[i]
        i += 1
    }
    return s
}

/// y += a · x
@inline(__always)
func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    let av = SIMD16<Float>(repeating: a)
    while i + 16 <= count {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD16<Float>.self)
        i += 16
    }
    while i < count {
        y[i] += a * x[i]
        i += 1
    }
}
