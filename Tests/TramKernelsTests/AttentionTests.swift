import Foundation
import Testing
import TramKernels

/// Paged caches filled with random K/V and a shuffled block table, so a wrong block or head
/// offset shows up as a wrong result.
private struct PagedCase {
    let layout: PagedKVLayout
    var keys: [Float], values: [Float]
    let table: [Int32]

    init(blockSize: Int, kvHeads: Int, headDim: Int, contextLength: Int, seed: UInt64) {
        let blocks = (contextLength + blockSize - 1) / blockSize
        layout = PagedKVLayout(numBlocks: blocks + 3, blockSize: blockSize, numKVHeads: kvHeads, headDim: headDim)
        keys = makeActivations(count: layout.layerFloats, seed: seed)
        values = makeActivations(count: layout.layerFloats, seed: seed + 1)
        var rng = TestRandom(seed: seed + 2)
        var ids = Array(0..<Int32(layout.numBlocks))
        for i in stride(from: ids.count - 1, to: 0, by: -1) { ids.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        table = Array(ids.prefix(blocks))
    }

    /// Softmax(q·Kᵀ·scale)·V of one head over keys `firstKey..<contextLength`, in Double,
    /// straight from the definition.
    func reference(q: ArraySlice<Float>, kvHead: Int, contextLength: Int, firstKey: Int = 0, scale: Float) -> [Double] {
        let d = layout.headDim
        var scores = [Double]()
        for t in firstKey..<contextLength {
            let slot = Int(table[t / layout.blockSize]) * layout.blockSize + t % layout.blockSize
            let k = layout.keyOffset(slot: slot, kvHead: kvHead)  // dimension i at k + i·blockSize
            var dot = 0.0
            for (i, qi) in zip(0..<d, q) { dot += Double(qi) * Double(keys[k + i * layout.blockSize]) }
            scores.append(dot * Double(scale))
        }
        let m = scores.max()!
        let e = scores.map { Foundation.exp($0 - m) }
        let total = e.reduce(0, +)
        var out = [Double](repeating: 0, count: d)
        for t in firstKey..<contextLength {
            let slot = Int(table[t / layout.blockSize]) * layout.blockSize + t % layout.blockSize
            let v = layout.offset(slot: slot, kvHead: kvHead)
            for i in 0..<d { out[i] += e[t - firstKey] / total * Double(values[v + i]) }
        }
        return out
    }

    /// Poisons every K and V element of the tokens before `firstKey` with NaN, so any read of
    /// them shows in the output.
    mutating func poison(before firstKey: Int) {
        for t in 0..<firstKey {
            let slot = Int(table[t / layout.blockSize]) * layout.blockSize + t % layout.blockSize
            for h in 0..<layout.numKVHeads {
                for i in 0..<layout.headDim {
                    keys[layout.keyOffset(slot: slot, kvHead: h) + i * layout.blockSize] = .nan
                    values[layout.offset(slot: slot, kvHead: h) + i] = .nan
                }
            }
        }
    }
}

/// A group of query heads sharing a KV head gives, head by head, bitwise what `attendOneHead`
/// gives, and both match the Double definition.
@Test(arguments: [(16, 64, 1), (16, 64, 37), (16, 64, 200), (8, 48, 21), (32, 80, 70)])
func headGroupMatchesOneHeadAtATime(blockSize: Int, headDim: Int, contextLength: Int) {
    let group = 3, kvHeads = 2
    let c = PagedCase(blockSize: blockSize, kvHeads: kvHeads, headDim: headDim, contextLength: contextLength, seed: UInt64(contextLength))
    let q = makeActivations(count: group * headDim, seed: 99)
    let scale = 1 / Float(headDim).squareRoot()
    for kvHead in 0..<kvHeads {
        var grouped = [Float](repeating: .nan, count: group * headDim)
        var single = grouped
        c.keys.withUnsafeBufferPointer { k in
            c.values.withUnsafeBufferPointer { v in
                c.table.withUnsafeBufferPointer { table in
                    var scratch = [Float](repeating: .nan, count: attentionScratchFloats(layout: c.layout, heads: group))
                    attendHeadGroup(layout: c.layout, keyCache: k.baseAddress!, valueCache: v.baseAddress!, q: q, out: &grouped,
                                    heads: group, kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                    contextLength: contextLength, scratch: &scratch)
                    for g in 0..<group {
                        q.withUnsafeBufferPointer { qp in
                            single.withUnsafeMutableBufferPointer { out in
                                attendOneHead(layout: c.layout, keyCache: k.baseAddress!, valueCache: v.baseAddress!,
                                              q: qp.baseAddress! + g * headDim, out: out.baseAddress! + g * headDim,
                                              kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                              contextLength: contextLength, scratch: &scratch)
                            }
                        }
                    }
                }
            }
        }
        #expect(grouped.map(\.bitPattern) == single.map(\.bitPattern), "kv head \(kvHead)")
        for g in 0..<group {
            let reference = c.reference(q: q[g * headDim..<(g + 1) * headDim], kvHead: kvHead, contextLength: contextLength, scale: scale)
            for i in 0..<headDim {
                // Online softmax and float accumulation over ≤ 200 keys: a few ulps of |v| ≤ 8.
                #expect(abs(Double(grouped[g * headDim + i]) - reference[i]) < 1e-4, "head \(g) lane \(i)")
            }
        }
    }
}

/// An f16 cache: `writeKV` rounds each value to nearest f16, and attention over it is bitwise
/// attention over an f32 cache holding the same rounded values (reads widen exactly, the
/// arithmetic is shared). Every slot is written through `writeKV`, so the transposed key layout
/// of both element types is covered.
@Test(arguments: [(16, 64, 37), (16, 64, 200), (8, 48, 21), (32, 80, 70)])
func float16CacheIsAttentionOverRoundedValues(blockSize: Int, headDim: Int, contextLength: Int) {
    let group = 3, kvHeads = 2
    let blocks = (contextLength + blockSize - 1) / blockSize
    let layout = PagedKVLayout(numBlocks: blocks + 2, blockSize: blockSize, numKVHeads: kvHeads, headDim: headDim)
    let rowStride = kvHeads * headDim
    // Values up to ±8 with small ones mixed in, so rounding happens at several exponents.
    let k = makeActivations(count: contextLength * rowStride, seed: 5).enumerated().map { $1 * ($0 % 7 == 0 ? 0.01 : 1) }
    let v = makeActivations(count: contextLength * rowStride, seed: 6)
    let table = (0..<Int32(blocks)).reversed().map { $0 + 1 }
    let slots = (0..<contextLength).map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
    let kRounded = k.map { Float(Float16($0)) }, vRounded = v.map { Float(Float16($0)) }
    var half16K = [Float16](repeating: .nan, count: layout.layerFloats), half16V = half16K
    var f32K = [Float](repeating: .nan, count: layout.layerFloats), f32V = f32K
    writeKV(layout: layout, keyCache: &half16K, valueCache: &half16V, k: k, v: v, rowStride: rowStride, tokens: contextLength, slots: slots)
    writeKV(layout: layout, keyCache: &f32K, valueCache: &f32V, k: kRounded, v: vRounded, rowStride: rowStride,
            tokens: contextLength, slots: slots)
    for slot in slots.map(Int.init) {
        for h in 0..<kvHeads {
            for i in 0..<headDim {
                let key = layout.keyOffset(slot: slot, kvHead: h) + i * blockSize, value = layout.offset(slot: slot, kvHead: h) + i
                #expect(Float(half16K[key]) == f32K[key] && Float(half16V[value]) == f32V[value])
            }
        }
    }
    let q = makeActivations(count: group * headDim, seed: 7)
    let scale = 1 / Float(headDim).squareRoot()
    var scratch = [Float](repeating: .nan, count: attentionScratchFloats(layout: layout, heads: group))
    for kvHead in 0..<kvHeads {
        var fromHalf = [Float](repeating: .nan, count: group * headDim), fromSingle = fromHalf
        attendHeadGroup(layout: layout, keyCache: half16K, valueCache: half16V, q: q, out: &fromHalf, heads: group, kvHead: kvHead,
                        scale: scale, blockTable: table, contextLength: contextLength, scratch: &scratch)
        attendHeadGroup(layout: layout, keyCache: f32K, valueCache: f32V, q: q, out: &fromSingle, heads: group, kvHead: kvHead,
                        scale: scale, blockTable: table, contextLength: contextLength, scratch: &scratch)
        #expect(fromHalf.map(\.bitPattern) == fromSingle.map(\.bitPattern), "kv head \(kvHead)")
        #expect(!fromHalf.contains { $0.isNaN })
    }
}

/// A sliding window: keys `firstKey..<contextLength` only, as the Double definition over that
/// range gives, with every token before `firstKey` poisoned with NaN (a read of a skipped block,
/// or of a skipped key in the window's first block, would show). The window's first key falls
/// at a block boundary, inside a block, and on the last key; an f16 cache gives the same as an
/// f32 one holding the rounded values; and firstKey 0 is bitwise the full attention.
@Test(arguments: [(16, 64, 200, 512), (16, 64, 200, 37), (16, 64, 200, 16), (8, 48, 21, 5), (16, 64, 70, 1), (32, 80, 70, 33)])
func slidingWindowReadsOnlyTheWindow(blockSize: Int, headDim: Int, contextLength: Int, window: Int) {
    let group = 2, kvHeads = 2
    var c = PagedCase(blockSize: blockSize, kvHeads: kvHeads, headDim: headDim, contextLength: contextLength, seed: UInt64(window))
    let firstKey = max(0, contextLength - window)
    let q = makeActivations(count: group * headDim, seed: 17)
    let scale = 1 / Float(headDim).squareRoot()
    var scratch = [Float](repeating: .nan, count: attentionScratchFloats(layout: c.layout, heads: group))
    func attend(_ keys: [Float], _ values: [Float], firstKey: Int, kvHead: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: group * headDim)
        attendHeadGroup(layout: c.layout, keyCache: keys, valueCache: values, q: q, out: &out, heads: group, kvHead: kvHead,
                        scale: scale, blockTable: c.table, contextLength: contextLength, firstKey: firstKey, scratch: &scratch)
        return out
    }
    let clean = c
    c.poison(before: firstKey)
    for kvHead in 0..<kvHeads {
        let windowed = attend(c.keys, c.values, firstKey: firstKey, kvHead: kvHead)
        #expect(!windowed.contains { $0.isNaN })
        for g in 0..<group {
            let reference = clean.reference(q: q[g * headDim..<(g + 1) * headDim], kvHead: kvHead, contextLength: contextLength,
                                            firstKey: firstKey, scale: scale)
            for i in 0..<headDim { #expect(abs(Double(windowed[g * headDim + i]) - reference[i]) < 1e-4, "head \(g) lane \(i)") }
        }
        // The poisoned cache and the clean one agree bitwise inside the window.
        #expect(windowed.map(\.bitPattern) == attend(clean.keys, clean.values, firstKey: firstKey, kvHead: kvHead).map(\.bitPattern))
        // f16: the same as f32 over the rounded values.
        let halfK = c.keys.map { Float16($0) }, halfV = c.values.map { Float16($0) }
        var fromHalf = [Float](repeating: .nan, count: group * headDim)
        attendHeadGroup(layout: c.layout, keyCache: halfK, valueCache: halfV, q: q, out: &fromHalf, heads: group, kvHead: kvHead,
                        scale: scale, blockTable: c.table, contextLength: contextLength, firstKey: firstKey, scratch: &scratch)
        let rounded = attend(c.keys.map { Float(Float16($0)) }, c.values.map { Float(Float16($0)) }, firstKey: firstKey, kvHead: kvHead)
        #expect(fromHalf.map(\.bitPattern) == rounded.map(\.bitPattern))
        // firstKey 0 is the default: the full causal attention.
        var full = [Float](repeating: .nan, count: group * headDim)
        attendHeadGroup(layout: c.layout, keyCache: clean.keys, valueCache: clean.values, q: q, out: &full, heads: group, kvHead: kvHead,
                        scale: scale, blockTable: c.table, contextLength: contextLength, scratch: &scratch)
        #expect(full.map(\.bitPattern) == attend(clean.keys, clean.values, firstKey: 0, kvHead: kvHead).map(\.bitPattern))
    }
}
