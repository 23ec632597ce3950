import TramKernels

/// The part of an attention layer every architecture shares: writing a step's new K/V into the
/// layer's paged cache, and attending each row to its own sequence's cached keys — all of them
/// (causal attention), or the last `window` only (a sliding-window layer, Gemma 3's local layers).
///
/// Row `i` of sequence `s` sits at position `p = contextLength − queryLength + i` and sees keys
///
///     causal:           0 ..< p + 1
///     sliding window W: max(0, p + 1 − W) ..< p + 1      (W keys, itself included)
///
/// the window being Hugging Face's `kv_idx > q_idx − W` and llama.cpp's `is_masked_swa`
/// (masked when `p − key ≥ W`). The kernel does not read KV blocks that lie wholly before the
/// window (`attendHeadGroup`'s `firstKey`).
struct PagedAttention {
    let numHeads: Int
    let numKVHeads: Int
    let headDim: Int
    /// Multiplies q·k (1/√headDim for Llama, query_pre_attn_scalar^−½ for Gemma 3).
    let scale: Float

    /// Writes rows' K and V (`[T, kvHeads·headDim]` each) to their slots in layer `layer`.
    func write(_ batch: ForwardBatch, layer: Int, cache: KVCache, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let kvDim = numKVHeads * headDim, t = batch.tokenCount
        batch.slotMapping.withUnsafeBufferPointer { slots in
            let (keys, values) = (cache.keys[layer], cache.values[layer])
            switch cache.dtype {
            case .float32:
                writeKV(layout: cache.layout, keyCache: keys.assumingMemoryBound(to: Float.self),
                        valueCache: values.assumingMemoryBound(to: Float.self),
                        k: k, v: v, rowStride: kvDim, tokens: t, slots: slots.baseAddress!)
            case .float16:
                writeKV(layout: cache.layout, keyCache: keys.assumingMemoryBound(to: Float16.self),
                        valueCache: values.assumingMemoryBound(to: Float16.self),
                        k: k, v: v, rowStride: kvDim, tokens: t, slots: slots.baseAddress!)
            }
        }
    }

    /// Attention of every row against its sequence's paged K/V of layer `layer`, one
    /// (row, KV head) item each; `out` is `[T, heads·headDim]` like `q`.
    /// - Parameter window: the sliding window in tokens (≥ 1), or nil for causal attention.
    func attend(_ batch: ForwardBatch, layer: Int, cache: KVCache, q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                window: Int?, workspace: Workspace, context: KernelContext) {
        let group = numHeads / numKVHeads
        // Per-thread scratch, padded so no two threads write one cache line.
        let scratchFloats = (attentionScratchFloats(layout: cache.layout, heads: group) + 15) / 16 * 16 + 16
        let scratch = workspace.attentionScratch(floats: scratchFloats * context.pool.threadCount)
        // One parallel region for the whole batch: work item = (query row, KV head), the row's
        // `group` query heads together (they read the same K/V). Rows are numbered across
        // sequences in batch order; a decode batch of 32 is 32 · kvHeads items in one region
        // rather than 32 regions.
        context.pool.parallelFor(batch.tokenCount * numKVHeads, AttentionItems(
            layout: cache.layout, dtype: cache.dtype, keys: UnsafeRawPointer(cache.keys[layer]), values: UnsafeRawPointer(cache.values[layer]),
            sequences: batch.sequences, q: q, out: out, kvHeads: numKVHeads, group: group, headDim: headDim,
            scale: scale, window: window ?? 0, scratch: scratch, scratchFloats: scratchFloats))
    }
}

/// Item (row, KV head) of a layer's attention: the row's query heads of that KV head's group
/// against the row's sequence's paged K/V.
private struct AttentionItems: ParallelWork {
    let layout: PagedKVLayout
    let dtype: KVCacheDType
    let keys: UnsafeRawPointer
    let values: UnsafeRawPointer
    let sequences: [ForwardBatch.Sequence]
    let q: UnsafeMutablePointer<Float>
    let out: UnsafeMutablePointer<Float>
    let kvHeads: Int
    let group: Int
    let headDim: Int
    let scale: Float
    /// Keys a row sees, itself included; 0 for all of them (causal attention).
    let window: Int
    /// `scratchFloats` per pool thread.
    let scratch: UnsafeMutablePointer<Float>
    let scratchFloats: Int

    func run(_ item: Int, thread: Int) {
        let row = item / kvHeads, kvHead = item % kvHeads
        var index = 0
        while row >= sequences[index].queryStart + sequences[index].queryLength { index += 1 }
        let s = sequences[index]
        let i = row - s.queryStart
        let qDim = kvHeads * group * headDim
        let offset = row * qDim + kvHead * group * headDim
        let contextLength = s.contextLength - s.queryLength + i + 1, scratch = scratch + thread * scratchFloats
        let firstKey = window > 0 ? max(0, contextLength - window) : 0
        s.blockTable.withUnsafeBufferPointer { table in
            switch dtype {
            case .float32:
                attendHeadGroup(layout: layout, keyCache: keys.assumingMemoryBound(to: Float.self),
                                valueCache: values.assumingMemoryBound(to: Float.self), q: q + offset, out: out + offset,
                                heads: group, kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                contextLength: contextLength, firstKey: firstKey, scratch: scratch)
            case .float16:
                attendHeadGroup(layout: layout, keyCache: keys.assumingMemoryBound(to: Float16.self),
                                valueCache: values.assumingMemoryBound(to: Float16.self), q: q + offset, out: out + offset,
                                heads: group, kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                contextLength: contextLength, firstKey: firstKey, scratch: scratch)
            }
        }
    }
}
