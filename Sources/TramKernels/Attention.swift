import CTramKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paged KV storage for one layer and the attention kernel that reads it.
///
/// K and V each hold `numBlocks × numKVHeads × blockSize × headDim` elements (f32 or f16, see
/// `KVElement`; offsets below count elements):
///
///     V: block b ─┬─ kv head 0: [blockSize, headDim]   ← a token's value vector is contiguous
///                 ├─ kv head 1: [blockSize, headDim]
///                 └─ …
///     K: block b ─┬─ kv head 0: [headDim, blockSize]   ← transposed: dimension i of the block's
///                 └─ …                                   keys is contiguous
///
/// Keys are stored transposed so a block's scores come out 16 keys per SIMD lane set: score
/// lanes += q[i] · K[i, 0..<16] for each dimension i, with no horizontal sum per key.
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

    /// Elements per block for one of K or V.
    public var blockStride: Int { numKVHeads * blockSize * headDim }
    /// Elements for one of K or V of one layer.
    public var layerFloats: Int { numBlocks * blockStride }

    /// Offset of token slot `slot`'s value vector for `kvHead` (`headDim` contiguous elements).
    @inline(__always) public func offset(slot: Int, kvHead: Int) -> Int {
        let block = slot / blockSize, within = slot % blockSize
        return block * blockStride + (kvHead * blockSize + within) * headDim
    }

    /// Offset of dimension 0 of token slot `slot`'s key for `kvHead`; dimension i is `i · blockSize`
    /// elements further.
    @inline(__always) public func keyOffset(slot: Int, kvHead: Int) -> Int {
        let block = slot / blockSize, within = slot % blockSize
        return block * blockStride + kvHead * blockSize * headDim + within
    }
}

/// What the paged KV cache stores: f32, or f16 for half the memory and half the bytes attention
/// reads per key. Values are rounded to nearest on write and widened exactly on read, so
/// attention over an f16 cache is, bit for bit, attention over f32 K/V rounded to f16.
public protocol KVElement: BitwiseCopyable {
    /// The `count` elements at `p` as floats: `p` itself for f32; for f16, widened into
    /// `scratch` (a block at a time, so attention's inner loops stay f32).
    static func floats(_ p: UnsafePointer<Self>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
    init(rounding value: Float)
}

extension Float: KVElement {
    @inline(__always)
    public static func floats(_ p: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> { p }
    @inline(__always) public init(rounding value: Float) { self = value }
}

extension Float16: KVElement {
    @inline(__always)
    public static func floats(_ p: UnsafePointer<Float16>, count: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        ctram_widen_f16(UnsafeRawPointer(p).assumingMemoryBound(to: UInt16.self), scratch, Int64(count))
        return UnsafePointer(scratch)
    }
    @inline(__always) public init(rounding value: Float) { self.init(value) }
}

/// Writes new keys and values into their slots (f32 cache).
/// - Parameters:
///   - k, v: `[tokens, numKVHeads · headDim]`, rows `rowStride` floats apart.
///   - slots: `[tokens]` slot numbers.
public func writeKV(
    layout: PagedKVLayout, keyCache: UnsafeMutablePointer<Float>, valueCache: UnsafeMutablePointer<Float>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, rowStride: Int, tokens: Int, slots: UnsafePointer<Int32>
) {
    writeKVElements(layout: layout, keyCache: keyCache, valueCache: valueCache, k: k, v: v, rowStride: rowStride, tokens: tokens, slots: slots)
}

/// `writeKV` into an f16 cache (each value rounded to nearest).
public func writeKV(
    layout: PagedKVLayout, keyCache: UnsafeMutablePointer<Float16>, valueCache: UnsafeMutablePointer<Float16>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, rowStride: Int, tokens: Int, slots: UnsafePointer<Int32>
) {
    writeKVElements(layout: layout, keyCache: keyCache, valueCache: valueCache, k: k, v: v, rowStride: rowStride, tokens: tokens, slots: slots)
}

@inline(__always)
private func writeKVElements<E: KVElement>(
    layout: PagedKVLayout, keyCache: UnsafeMutablePointer<E>, valueCache: UnsafeMutablePointer<E>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, rowStride: Int, tokens: Int, slots: UnsafePointer<Int32>
) {
    let d = layout.headDim, bs = layout.blockSize
    for t in 0..<tokens {
        let slot = Int(slots[t])
        for h in 0..<layout.numKVHeads {
            let value = valueCache + layout.offset(slot: slot, kvHead: h), vs = v + t * rowStride + h * d
            for i in 0..<d { value[i] = E(rounding: vs[i]) }
            let key = keyCache + layout.keyOffset(slot: slot, kvHead: h), ks = k + t * rowStride + h * d
            for i in 0..<d { key[i * bs] = E(rounding: ks[i]) }
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
///   - contextLength: keys `firstKey..<contextLength` are attended (the query's own position included).
///   - firstKey: the first key attended, 0 for full causal attention; a sliding-window layer of
///     window W passes `max(0, contextLength - W)` (see `attendHeadGroup`).
///   - scratch: at least `attentionScratchFloats(layout:heads: 1)` floats, owned by the calling thread.
public func attendOneHead(
    layout: PagedKVLayout, keyCache: UnsafePointer<Float>, valueCache: UnsafePointer<Float>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, firstKey: Int = 0, scratch: UnsafeMutablePointer<Float>
) {
    attendHeadGroup(layout: layout, keyCache: keyCache, valueCache: valueCache, q: q, out: out, heads: 1,
                    kvHead: kvHead, scale: scale, blockTable: blockTable, contextLength: contextLength, firstKey: firstKey,
                    scratch: scratch)
}

/// Floats of scratch `attendHeadGroup` needs for `heads` query heads.
public func attentionScratchFloats(layout: PagedKVLayout, heads: Int) -> Int {
    // Per head: scores, accumulator, max, sum; then one block's K and V widened from f16.
    heads * (layout.blockSize + layout.headDim + 2) + 2 * layout.blockSize * layout.headDim
}

/// `attendOneHead` for the `heads` query heads that share one KV head (grouped-query attention),
/// block by block: each block's keys and values are read from memory once and used by every
/// head while they sit in L1, instead of once per head. Each head's arithmetic is exactly
/// `attendOneHead`'s, in the same order, so results are bitwise the same.
///
/// A sliding window starts the keys at `firstKey` instead of 0. The blocks wholly before it are
/// not read at all (the loop starts at block `firstKey / blockSize`), and in the block that holds
/// it only keys from `firstKey` on take part. With window W = 4 and blocks of 4, the query at
/// position 9 (contextLength 10) has firstKey 6:
///
///     logical block:   0: keys 0–3 │ 1: keys 4–7 │ 2: keys 8–9
///                      not read    │ 6, 7 only   │ 8, 9
///
/// With `firstKey` 0 every key is attended and the arithmetic is unchanged.
///
/// - Parameters:
///   - q, out: `[heads, headDim]`, the group's heads contiguous (as in a `[numHeads · headDim]` row).
///   - firstKey: `0..<contextLength`; the first key attended.
///   - scratch: at least `attentionScratchFloats(layout:heads:)` floats.
public func attendHeadGroup(
    layout: PagedKVLayout, keyCache: UnsafePointer<Float>, valueCache: UnsafePointer<Float>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, heads: Int, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, firstKey: Int = 0, scratch: UnsafeMutablePointer<Float>
) {
    attendHeadGroupElements(layout: layout, keyCache: keyCache, valueCache: valueCache, q: q, out: out, heads: heads, kvHead: kvHead,
                            scale: scale, blockTable: blockTable, contextLength: contextLength, firstKey: firstKey, scratch: scratch)
}

/// `attendHeadGroup` over an f16 cache: the same arithmetic on the widened K/V.
public func attendHeadGroup(
    layout: PagedKVLayout, keyCache: UnsafePointer<Float16>, valueCache: UnsafePointer<Float16>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, heads: Int, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, firstKey: Int = 0, scratch: UnsafeMutablePointer<Float>
) {
    attendHeadGroupElements(layout: layout, keyCache: keyCache, valueCache: valueCache, q: q, out: out, heads: heads, kvHead: kvHead,
                            scale: scale, blockTable: blockTable, contextLength: contextLength, firstKey: firstKey, scratch: scratch)
}

@inline(__always)
private func attendHeadGroupElements<E: KVElement>(
    layout: PagedKVLayout, keyCache: UnsafePointer<E>, valueCache: UnsafePointer<E>,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, heads: Int, kvHead: Int, scale: Float,
    blockTable: UnsafePointer<Int32>, contextLength: Int, firstKey: Int, scratch: UnsafeMutablePointer<Float>
) {
    let d = layout.headDim, bs = layout.blockSize
    // Per head g: scores [blockSize] at g·bs, accumulator [headDim], running max and sum.
    let scoreBase = scratch
    let accBase = scratch + heads * bs
    let runningMax = accBase + heads * d
    let runningSum = runningMax + heads
    let widenedKeys = runningSum + heads, widenedValues = widenedKeys + bs * d
    accBase.initialize(repeating: 0, count: heads * d)
    runningMax.initialize(repeating: -Float.infinity, count: heads)
    runningSum.initialize(repeating: 0, count: heads)
    // Blocks before the one holding `firstKey` are skipped; `lo` is the first key of the block
    // taking part (nonzero only in that first block).
    var logical = firstKey / bs
    var start = logical * bs
    while start < contextLength {
        let n = min(bs, contextLength - start)
        let lo = max(0, firstKey - start)
        let base = Int(blockTable[logical]) * layout.blockStride + kvHead * bs * d
        // The block's keys ([headDim, blockSize], the unwritten tail lanes included: they are
        // computed and ignored) and its n values, as floats.
        let keys = E.floats(keyCache + base, count: d * bs, scratch: widenedKeys)
        let values = E.floats(valueCache + base, count: n * d, scratch: widenedValues)
        for g in 0..<heads {
            let scores = scoreBase + g * bs, acc = accBase + g * d, qg = q + g * d
            blockScores(qg, keys, headDim: d, blockSize: bs, count: n, scale: scale, into: scores)
            var blockMax = -Float.infinity
            for j in lo..<n { blockMax = max(blockMax, scores[j]) }
            let newMax = max(runningMax[g], blockMax)
            // Rescale what was accumulated under the old maximum.
            let correction = runningMax[g] == -Float.infinity ? 0 : expf(runningMax[g] - newMax)
            if correction != 1 {
                for i in 0..<d { acc[i] *= correction }
            }
            var sum = runningSum[g] * correction
            // The block's weights e^(s − max), 16 at a time (blocks are usually 16 tokens).
            var j = lo
            while j + 16 <= n {
                store16(scores, j, exp16(load16(scores, j) - SIMD16(repeating: newMax)))
                j += 16
            }
            while j < n {
                scores[j] = expf(scores[j] - newMax)
                j += 1
            }
            for j in lo..<n { sum += scores[j] }
            if d % 16 == 0 {
                // Lanes outer, keys inner: the accumulator's lanes stay in registers across the
                // block, 64 at a time in four independent FMA chains (one chain per 16 lanes
                // waits on each FMA's latency), then 16 at a time for the rest. Each lane sums
                // the keys in order either way.
                var c = 0
                while c + 64 <= d {
                    var a0 = load16(acc, c), a1 = load16(acc, c + 16), a2 = load16(acc, c + 32), a3 = load16(acc, c + 48)
                    for j in lo..<n {
                        let w = SIMD16(repeating: scores[j]), row = values + j * d + c
                        a0 = a0.addingProduct(w, load16(row, 0))
                        a1 = a1.addingProduct(w, load16(row, 16))
                        a2 = a2.addingProduct(w, load16(row, 32))
                        a3 = a3.addingProduct(w, load16(row, 48))
                    }
                    store16(acc, c, a0)
                    store16(acc, c + 16, a1)
                    store16(acc, c + 32, a2)
                    store16(acc, c + 48, a3)
                    c += 64
                }
                while c < d {
                    var a = load16(acc, c)
                    for j in lo..<n { a = a.addingProduct(SIMD16(repeating: scores[j]), load16(values + j * d, c)) }
                    store16(acc, c, a)
                    c += 16
                }
            } else {
                for j in lo..<n { axpy(scores[j], values + j * d, acc, count: d) }
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

/// scores[j] = (q · key j) · scale for the block's first `count` keys, `keys` pointing at a
/// head's transposed block `[headDim, blockSize]`. Lanes are keys: 16 keys take headDim FMAs
/// (four interleaved chains over i mod 4, summed in a fixed order) and no horizontal sums.
/// Lanes past `count` in the last group of 16 are computed and ignored (the block's memory is
/// the pool's, never outside it).
@inline(__always)
func blockScores(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, headDim d: Int, blockSize bs: Int,
                 count n: Int, scale: Float, into scores: UnsafeMutablePointer<Float>) {
    if bs % 16 == 0 {
        var j = 0
        while j < n {
            var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
            var i = 0
            while i + 4 <= d {
                s0 = s0.addingProduct(SIMD16(repeating: q[i]), load16(keys + i * bs, j))
                s1 = s1.addingProduct(SIMD16(repeating: q[i + 1]), load16(keys + (i + 1) * bs, j))
                s2 = s2.addingProduct(SIMD16(repeating: q[i + 2]), load16(keys + (i + 2) * bs, j))
                s3 = s3.addingProduct(SIMD16(repeating: q[i + 3]), load16(keys + (i + 3) * bs, j))
                i += 4
            }
            while i < d {
                s0 = s0.addingProduct(SIMD16(repeating: q[i]), load16(keys + i * bs, j))
                i += 1
            }
            store16(scores, j, ((s0 + s1) + (s2 + s3)) * SIMD16(repeating: scale))
            j += 16
        }
    } else {
        for j in 0..<n {
            var s: Float = 0
            for i in 0..<d { s = s.addingProduct(q[i], keys[i * bs + j]) }
            scores[j] = s * scale
        }
    }
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
