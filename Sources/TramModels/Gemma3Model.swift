import Foundation
import TramFormats
public import TramKernels

/// Gemma 3's text decoder (270M … 27B): embeddings scaled by √hidden, `numLayers` ×
/// (RMSNorm → attention with QK-norm and RoPE → RMSNorm → residual → RMSNorm → GeGLU MLP →
/// RMSNorm → residual), final RMSNorm, LM head tied to the embedding, optional final logit
/// softcapping. Per layer, with `x` the residual stream:
///
///     x += post_attention_norm(attention(attn_norm(x)))
///     x += post_ffw_norm(down(gelu_tanh(gate(h)) · up(h)))      h = ffn_norm(x)
///
/// Attention normalizes each q and k head over `headDim` (`attn_q_norm` / `attn_k_norm`)
/// before rotate-half RoPE (llama.cpp's NEOX type for gemma3; its converter does not permute
/// q/k), and scales q·k by `queryPreAttnScalar`^−½. Layers come in two kinds
/// (`Gemma3Configuration.layerKinds`): local layers attend to the last `slidingWindow` tokens
/// with RoPE base 10 000, global layers (every 6th) to all of them with base 1 000 000 (and
/// linear scaling on the larger models).
///
/// RMSNorm is x · (1 + w) with Hugging Face's stored w; llama.cpp's converter writes 1 + w into
/// the GGUF (`Gemma3Model.norm_shift`), so a GGUF norm is the plain x · w (`NormWeights`).
///
/// KV memory and the sliding window: every layer keeps K/V for every token. The engine gives a
/// sequence one block table that all layers share (`KVCacheManager`; a block holds its tokens'
/// K/V in each layer), and `KVCacheSizing` charges `numLayers` layers per token. A local
/// layer's attention reads only the blocks that reach into its window (the others are not
/// read), which bounds its time, but their memory cannot be handed back: the global layers
/// still read those blocks, and a block is freed for all layers at once. For 270M (15 of 18
/// layers local, window 512) a 32K-token sequence therefore holds 18 × 32K token-layers where
/// 3 × 32K + 15 × 512 would do, about 5.5 times more. Reclaiming that needs a KV cache group
/// per layer kind with block tables of its own, the sliding group dropping blocks that leave
/// the window (vLLM's hybrid KV cache manager): a change to the block manager, scheduler,
/// `ForwardBatch` and `KVCache`, not made here.
///
/// `forward` is not reentrant: it reuses one workspace, so one thread (the engine's) drives it.
public final class Gemma3Model: CausalLM, @unchecked Sendable {
    public let configuration: Gemma3Configuration
    public let weightDescription: String
    public let defaultKVCacheDType: KVCacheDType

    /// How a file stores the RMSNorm weights of Gemma's x · (1 + w).
    enum NormWeights {
        /// 1 + w, as llama.cpp's converter writes GGUF files.
        case includingOne
        /// w itself, as Hugging Face checkpoints hold it; 1 is added at load.
        case raw
    }

    struct Layer {
        var attentionNorm, postAttentionNorm, ffnNorm, postFeedforwardNorm: [Float]  // [hidden], 1 + w
        var qNorm, kNorm: [Float]  // [headDim], 1 + w
        var q, k, v, o: WeightMatrix
        var gate, up, down: WeightMatrix

        /// Linear weights per layer (`linears(_:)` lists them, `replacingLinears(_:)` takes them back).
        static let linearCount = 7

        /// q, k, v, o, gate, up, down with their names, in this order.
        func linears(_ index: Int) -> [(name: TensorName, matrix: WeightMatrix)] {
            [(.q(index), q), (.k(index), k), (.v(index), v), (.o(index), o), (.gate(index), gate), (.up(index), up), (.down(index), down)]
        }

        /// This layer with its linear weights replaced, given in `linears(_:)`'s order.
        func replacingLinears(_ matrices: some Collection<WeightMatrix>) -> Layer {
            precondition(matrices.count == Self.linearCount, "a layer has \(Self.linearCount) linear weights")
            let m = Array(matrices)
            var layer = self
            (layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6])
            return layer
        }
    }

    let embedding: WeightMatrix  // [vocab, hidden]
    let layers: [Layer]
    let outputNorm: [Float]  // [hidden], 1 + w
    let lmHead: WeightMatrix  // [vocab, hidden]
    /// RoPE of the local and of the global layers (different bases, scaling on global only).
    let localRope: RopeTable
    let globalRope: RopeTable
    let attention: PagedAttention
    /// √hidden, in f32 as llama.cpp computes it (transformers rounds it to the weights' dtype:
    /// in bf16 √640 = 25.30 becomes 25.25).
    let embeddingScale: Float
    private var workspace = Workspace()

    public var vocabularySize: Int { configuration.vocabSize }
    public var maxPositions: Int { configuration.maxPositionEmbeddings }
    public var numLayers: Int { configuration.numLayers }
    public var numKVHeads: Int { configuration.numKVHeads }
    public var headDim: Int { configuration.headDim }
    public var matmulParameters: Int {
        let c = configuration
        return decoderMatmulParameters(layers: c.numLayers, hidden: c.hiddenSize, heads: c.numHeads, kvHeads: c.numKVHeads,
                                       headDim: c.headDim, intermediate: c.intermediateSize, vocabulary: c.vocabSize)
    }

    init(configuration c: Gemma3Configuration, source: some WeightSource, norms: NormWeights, options: LoadOptions) throws(ModelError) {
        configuration = c
        let d = c.hiddenSize, qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim, f = c.intermediateSize
        func norm(_ name: TensorName, count: Int) throws(ModelError) -> [Float] {
            let w = try source.vector(name, count: count)
            return norms == .raw ? w.map { 1 + $0 } : w
        }
        // Matrices as stored first (in place in the file), converted by `PreparedWeights`.
        let storedEmbedding = try source.matrix(.tokenEmbedding, rows: c.vocabSize, columns: d)
        var layers: [Layer] = []
        for i in 0..<c.numLayers {
            layers.append(Layer(
                attentionNorm: try norm(.attentionNorm(i), count: d),
                postAttentionNorm: try norm(.postAttentionNorm(i), count: d),
                ffnNorm: try norm(.preFeedforwardNorm(i), count: d),
                postFeedforwardNorm: try norm(.postFeedforwardNorm(i), count: d),
                qNorm: try norm(.qNorm(i), count: c.headDim),
                kNorm: try norm(.kNorm(i), count: c.headDim),
                q: try source.matrix(.q(i), rows: qDim, columns: d),
                k: try source.matrix(.k(i), rows: kvDim, columns: d),
                v: try source.matrix(.v(i), rows: kvDim, columns: d),
                o: try source.matrix(.o(i), rows: d, columns: qDim),
                gate: try source.matrix(.gate(i), rows: f, columns: d),
                up: try source.matrix(.up(i), rows: f, columns: d),
                down: try source.matrix(.down(i), rows: d, columns: f)
            ))
        }
        outputNorm = try norm(.outputNorm, count: d)
        // nil: the LM head is the embedding table (tied, as in every Gemma 3).
        let output = c.tieWordEmbeddings || !source.has(.output) ? nil : try source.matrix(.output, rows: c.vocabSize, columns: d)
        let perLayer = Layer.linearCount
        let linears: [(name: TensorName, matrix: WeightMatrix)] = layers.enumerated().flatMap { i, layer in layer.linears(i) }
        let queries: [Int] = (0..<c.numLayers).map { perLayer * $0 }
        // Gemma GGUFs mix types within a layer (270M Q4_K_M: q5_0, q8_0, q4_k, q6_k): all are named.
        let prepared = try PreparedWeights(embedding: storedEmbedding, linears: linears, output: output, described: Array(linears.indices),
                                           queryProjections: queries, path: source.path, options: options)
        embedding = prepared.embedding
        self.layers = layers.enumerated().map { i, layer in layer.replacingLinears(prepared.linears[perLayer * i..<perLayer * (i + 1)]) }
        lmHead = prepared.lmHead
        defaultKVCacheDType = prepared.defaultKVCacheDType
        weightDescription = prepared.description
        attention = PagedAttention(numHeads: c.numHeads, numKVHeads: c.numKVHeads, headDim: c.headDim,
                                   scale: Float(1 / c.queryPreAttnScalar.squareRoot()))
        localRope = RopeTable(style: .halves, headDim: c.headDim, rotaryDim: c.headDim, maxPositions: c.maxPositionEmbeddings,
                              inverseFrequencies: c.inverseFrequencies(.local))
        globalRope = RopeTable(style: .halves, headDim: c.headDim, rotaryDim: c.headDim, maxPositions: c.maxPositionEmbeddings,
                               inverseFrequencies: c.inverseFrequencies(.global))
        embeddingScale = Float(d).squareRoot()
    }

    /// Every weight matrix the forward pass reads, by GGUF name; the LM head is "output.weight"
    /// even when it is the tied embedding. For tests and diagnostics.
    package var weightMatrices: [(name: String, matrix: WeightMatrix)] {
        [(TensorName.tokenEmbedding.description, embedding)]
            + layers.enumerated().flatMap { i, layer in layer.linears(i).map { ($0.name.description, $0.matrix) } }
            + [(TensorName.output.description, lmHead)]
    }

    public func forward(_ batch: ForwardBatch, cache: KVCache, context: KernelContext, logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        try batch.validate(vocabularySize: vocabularySize, maxPositions: maxPositions, layout: cache.layout)
        guard cache.numLayers == numLayers, cache.layout.numKVHeads == numKVHeads, cache.layout.headDim == headDim else {
            throw .invalidBatch("KV cache shape does not match the model")
        }
        let c = configuration
        let t = batch.tokenCount
        let d = c.hiddenSize, hd = c.headDim, qDim = c.numHeads * hd, kvDim = c.numKVHeads * hd, f = c.intermediateSize
        workspace.reserve(tokens: t, hidden: d, qDim: qDim, kvDim: kvDim, ffn: f)
        let w = workspace
        let x = w.x, h = w.h, q = w.q, k = w.k, v = w.v, attn = w.attn, gate = w.gate, up = w.up
        let eps = c.rmsNormEps

        for (row, id) in batch.tokenIDs.enumerated() {
            embedding.row(Int(id), into: x + row * d)
            scale(x + row * d, by: embeddingScale, count: d)
        }
        for (i, layer) in layers.enumerated() {
            let local = c.layerKinds[i] == .local
            // Attention block.
            norm(x, layer.attentionNorm, into: h, rows: t, eps: eps)
            context.matmul(h, tokens: t, layer.q, q, layer.k, k, layer.v, v)
            // QK-norm: every head of every row, over headDim, before RoPE.
            norm(q, layer.qNorm, into: q, rows: t * c.numHeads, eps: eps)
            norm(k, layer.kNorm, into: k, rows: t * c.numKVHeads, eps: eps)
            let rope = local ? localRope : globalRope
            batch.positions.withUnsafeBufferPointer { pos in
                rope.apply(q, tokens: t, heads: c.numHeads, rowStride: qDim, positions: pos.baseAddress!)
                rope.apply(k, tokens: t, heads: c.numKVHeads, rowStride: kvDim, positions: pos.baseAddress!)
            }
            attention.write(batch, layer: i, cache: cache, k: k, v: v)
            attention.attend(batch, layer: i, cache: cache, q: q, out: attn, window: local ? c.slidingWindow : nil,
                             workspace: workspace, context: context)
            context.matmul(layer.o, attn, tokens: t, h)
            norm(h, layer.postAttentionNorm, into: h, rows: t, eps: eps)
            add(x, h, count: t * d)

            // MLP block.
            norm(x, layer.ffnNorm, into: h, rows: t, eps: eps)
            context.matmul(h, tokens: t, layer.gate, gate, layer.up, up)
            // Row by row, so each row takes the same vector/scalar split whatever the batch.
            for r in 0..<t { geluTanhMultiply(gate: gate + r * f, up: up + r * f, out: gate + r * f, count: f) }
            context.matmul(layer.down, gate, tokens: t, h)
            norm(h, layer.postFeedforwardNorm, into: h, rows: t, eps: eps)
            add(x, h, count: t * d)
        }
        // Only the rows whose logits are wanted go through the final norm and the LM head.
        let s = batch.logitsIndices.count
        for (j, row) in batch.logitsIndices.enumerated() {
            norm(x + row * d, outputNorm, into: h + j * d, rows: 1, eps: eps)
        }
        guard s > 0 else { return }
        context.matmul(lmHead, h, tokens: s, logits)
        if let cap = c.finalLogitSoftcapping {
            for j in 0..<(s * c.vocabSize) { logits[j] = cap * tanh(logits[j] / cap) }
        }
    }

    /// RMSNorm of `rows` rows of `weight.count` floats each; `out` may be `x`.
    private func norm(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], into out: UnsafeMutablePointer<Float>, rows: Int, eps: Float) {
        weight.withUnsafeBufferPointer { wp in
            rmsNorm(rows: x, weight: wp.baseAddress!, eps: eps, out: out, rowCount: rows, dim: wp.count)
        }
    }
}
