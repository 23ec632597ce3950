import TramFormats
public import TramKernels

/// The Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2 with q/k/v biases): embeddings,
/// `numLayers` × (RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU MLP →
/// residual), final RMSNorm, LM head (tied to the embedding when the file has no output matrix).
///
/// `forward` is not reentrant: it reuses one workspace, so one thread (the engine's) drives it.
public final class LlamaModel: CausalLM, @unchecked Sendable {
    public let configuration: LlamaConfiguration
    public let weightDescription: String
    public let defaultKVCacheDType: KVCacheDType

    struct Layer {
        var attentionNorm: [Float]  // [hidden]
        var q, k, v, o: WeightMatrix
        var qBias, kBias, vBias: [Float]?
        var ffnNorm: [Float]  // [hidden]
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
    let outputNorm: [Float]  // [hidden]
    let lmHead: WeightMatrix  // [vocab, hidden]
    let rope: RopeTable
    let attention: PagedAttention
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

    init(configuration c: LlamaConfiguration, source: some WeightSource, options: LoadOptions) throws(ModelError) {
        configuration = c
        let d = c.hiddenSize, qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim, f = c.intermediateSize
        // Matrices as stored first (in place in the file), converted below as `options` asks.
        let storedEmbedding = try source.matrix(.tokenEmbedding, rows: c.vocabSize, columns: d)
        var layers: [Layer] = []
        for i in 0..<c.numLayers {
            layers.append(Layer(
                attentionNorm: try source.vector(.attentionNorm(i), count: d),
                q: try source.matrix(.q(i), rows: qDim, columns: d),
                k: try source.matrix(.k(i), rows: kvDim, columns: d),
                v: try source.matrix(.v(i), rows: kvDim, columns: d),
                o: try source.matrix(.o(i), rows: d, columns: qDim),
                qBias: c.attentionBias ? try source.vector(.qBias(i), count: qDim) : nil,
                kBias: c.attentionBias ? try source.vector(.kBias(i), count: kvDim) : nil,
                vBias: c.attentionBias ? try source.vector(.vBias(i), count: kvDim) : nil,
                ffnNorm: try source.vector(.ffnNorm(i), count: d),
                gate: try source.matrix(.gate(i), rows: f, columns: d),
                up: try source.matrix(.up(i), rows: f, columns: d),
                down: try source.matrix(.down(i), rows: d, columns: f)
            ))
        }
        outputNorm = try source.vector(.outputNorm, count: d)
        // nil: the LM head is the embedding table (tied, or the file has no output matrix).
        let output = c.tieWordEmbeddings || !source.has(.output) ? nil : try source.matrix(.output, rows: c.vocabSize, columns: d)
        let perLayer = Layer.linearCount
        let linears: [(name: TensorName, matrix: WeightMatrix)] = layers.enumerated().flatMap { i, layer in layer.linears(i) }
        // The description names the types of q, gate and down (offsets 0, 4, 6 of a layer's linears).
        let described: [Int] = (0..<c.numLayers).flatMap { i in [0, 4, 6].map { perLayer * i + $0 } }
        let queries: [Int] = (0..<c.numLayers).map { perLayer * $0 }
        let prepared = try PreparedWeights(embedding: storedEmbedding, linears: linears, output: output, described: described,
                                           queryProjections: queries, path: source.path, options: options)
        embedding = prepared.embedding
        self.layers = layers.enumerated().map { i, layer in layer.replacingLinears(prepared.linears[perLayer * i..<perLayer * (i + 1)]) }
        lmHead = prepared.lmHead
        defaultKVCacheDType = prepared.defaultKVCacheDType
        weightDescription = prepared.description
        attention = PagedAttention(numHeads: c.numHeads, numKVHeads: c.numKVHeads, headDim: c.headDim, scale: 1 / Float(c.headDim).squareRoot())

        var frequencies = c.inverseFrequencies()
        if source.has(.ropeFrequencies) {
            // GGUF stores Llama 3 scaling as per-pair divisors of the base frequencies.
            let factors = try source.vector(.ropeFrequencies, count: c.headDim / 2)
            frequencies = zip(RopeTable.inverseFrequencies(theta: c.ropeTheta, rotaryDim: c.headDim), factors).map { $0 / Double($1) }
        }
        rope = RopeTable(style: c.ropeStyle, headDim: c.headDim, rotaryDim: c.headDim, maxPositions: c.maxPositionEmbeddings, inverseFrequencies: frequencies)
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
        let d = c.hiddenSize, qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim, f = c.intermediateSize
        workspace.reserve(tokens: t, hidden: d, qDim: qDim, kvDim: kvDim, ffn: f)
        let w = workspace
        let x = w.x, h = w.h, q = w.q, k = w.k, v = w.v, attn = w.attn, gate = w.gate, up = w.up

        for (row, id) in batch.tokenIDs.enumerated() {
            embedding.row(Int(id), into: x + row * d)
        }
        for (i, layer) in layers.enumerated() {
            // Attention block.
            rmsNormRows(x, layer.attentionNorm, h, t, d, c.rmsNormEps)
            context.matmul(h, tokens: t, layer.q, q, layer.k, k, layer.v, v)
            if let b = layer.qBias { addBias(q, b, t) }
            if let b = layer.kBias { addBias(k, b, t) }
            if let b = layer.vBias { addBias(v, b, t) }
            batch.positions.withUnsafeBufferPointer { pos in
                rope.apply(q, tokens: t, heads: c.numHeads, rowStride: qDim, positions: pos.baseAddress!)
                rope.apply(k, tokens: t, heads: c.numKVHeads, rowStride: kvDim, positions: pos.baseAddress!)
            }
            attention.write(batch, layer: i, cache: cache, k: k, v: v)
            attention.attend(batch, layer: i, cache: cache, q: q, out: attn, window: nil, workspace: workspace, context: context)
            context.matmul(layer.o, attn, tokens: t, h)
            addInPlace(x, h, t * d)

            // MLP block.
            rmsNormRows(x, layer.ffnNorm, h, t, d, c.rmsNormEps)
            context.matmul(h, tokens: t, layer.gate, gate, layer.up, up)
            siluMultiply(gate: gate, up: up, out: gate, count: t * f)
            context.matmul(layer.down, gate, tokens: t, h)
            addInPlace(x, h, t * d)
        }
        // Only the rows whose logits are wanted go through the final norm and the LM head.
        let s = batch.logitsIndices.count
        for (j, row) in batch.logitsIndices.enumerated() {
            rmsNormRows(x + row * d, outputNorm, h + j * d, 1, d, c.rmsNormEps)
        }
        if s > 0 { context.matmul(lmHead, h, tokens: s, logits) }
    }

    private func rmsNormRows(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ d: Int, _ eps: Float) {
        weight.withUnsafeBufferPointer { wp in
            for r in 0..<rows { rmsNorm(x + r * d, weight: wp.baseAddress!, eps: eps, out: out + r * d, count: d) }
        }
    }

    private func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: [Float], _ rows: Int) {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { addInPlace(y + r * b.count, UnsafeMutablePointer(mutating: b.baseAddress!), b.count) }
        }
    }

    private func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        add(y, x, count: n)
    }
}
