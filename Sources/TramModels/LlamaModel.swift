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
    private var workspace = Workspace()

    public var vocabularySize: Int { configuration.vocabSize }
    public var maxPositions: Int { configuration.maxPositionEmbeddings }
    public var numLayers: Int { configuration.numLayers }
    public var numKVHeads: Int { configuration.numKVHeads }
    public var headDim: Int { configuration.headDim }

    init(configuration c: LlamaConfiguration, source: some WeightSource, options: LoadOptions) throws(ModelError) {
        configuration = c
        func matrix(_ name: TensorName, rows: Int, columns: Int) throws(ModelError) -> WeightMatrix {
            let w = try source.matrix(name)
            guard w.rows == rows, w.columns == columns else {
                throw .format(.badTensor(path: source.path, tensor: name.description, reason: "shape [\(w.rows), \(w.columns)], expected [\(rows), \(columns)]"))
            }
            return w
        }
        func vector(_ name: TensorName, count: Int) throws(ModelError) -> [Float] {
            let v = try source.vector(name)
            guard v.count == count else {
                throw .format(.badTensor(path: source.path, tensor: name.description, reason: "\(v.count) elements, expected \(count)"))
            }
            return v
        }
        let d = c.hiddenSize, qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim, f = c.intermediateSize
        // Matrices as stored first (in place in the file), converted below as `options` asks.
        var embedding = try matrix(.tokenEmbedding, rows: c.vocabSize, columns: d)
        var layers: [Layer] = []
        for i in 0..<c.numLayers {
            layers.append(Layer(
                attentionNorm: try vector(.attentionNorm(i), count: d),
                q: try matrix(.q(i), rows: qDim, columns: d),
                k: try matrix(.k(i), rows: kvDim, columns: d),
                v: try matrix(.v(i), rows: kvDim, columns: d),
                o: try matrix(.o(i), rows: d, columns: qDim),
                qBias: c.attentionBias ? try vector(.qBias(i), count: qDim) : nil,
                kBias: c.attentionBias ? try vector(.kBias(i), count: kvDim) : nil,
                vBias: c.attentionBias ? try vector(.vBias(i), count: kvDim) : nil,
                ffnNorm: try vector(.ffnNorm(i), count: d),
                gate: try matrix(.gate(i), rows: f, columns: d),
                up: try matrix(.up(i), rows: f, columns: d),
                down: try matrix(.down(i), rows: d, columns: f)
            ))
        }
        outputNorm = try vector(.outputNorm, count: d)
        // nil: the LM head is the embedding table (tied, or the file has no output matrix).
        let output = c.tieWordEmbeddings || !source.has(.output) ? nil : try matrix(.output, rows: c.vocabSize, columns: d)
        let storedTypes = Set(layers.flatMap { [$0.q.type, $0.gate.type, $0.down.type] }.map { "\($0)" }).sorted().joined(separator: "/")
        let storedHead = output?.type ?? embedding.type
        defaultKVCacheDType = options.precision == .float32 || layers.contains { $0.q.type == .f32 } ? .float32 : .float16

        // Quantized matrices in the layout this CPU's kernels run fastest on (x16 on AVX-512 VNNI;
        // a tied embedding is packed once and its lookups unpack the row they read).
        func packed(_ layers: [Layer]) -> [Layer] {
            layers.enumerated().map { i, layer in layer.replacingLinears(layer.linears(i).map { $0.matrix.packedForKernels() }) }
        }
        switch options.precision {
        case .native:
            embedding = embedding.packedForKernels()
            layers = packed(layers)
            lmHead = output?.packedForKernels() ?? embedding
        case .float32:
            embedding = embedding.dequantizedToFloat32()
            layers = layers.enumerated().map { i, layer in layer.replacingLinears(layer.linears(i).map { $0.matrix.dequantizedToFloat32() }) }
            lmHead = output?.dequantizedToFloat32() ?? embedding
        case .int8:
            // The LM head is a linear layer even when it shares the embedding's table: it gets a
            // quantized copy and the lookup keeps reading the stored rows.
            let head: (name: TensorName, matrix: WeightMatrix) = output.map { (.output, $0) } ?? (.tokenEmbedding, embedding)
            let linears = layers.enumerated().flatMap { i, layer in layer.linears(i) } + [head]
            let quantizer = OnlineQuantizer(path: source.path, threads: options.threads, logger: options.logger)
            let quantized = try quantizer.quantize(linears)
            let perLayer = Layer.linearCount
            layers = packed(layers.enumerated().map { i, layer in layer.replacingLinears(quantized[perLayer * i..<perLayer * (i + 1)]) })
            lmHead = quantized[quantized.count - 1].packedForKernels()
        }
        self.embedding = embedding
        self.layers = layers

        var frequencies = c.inverseFrequencies()
        if source.has(.ropeFrequencies) {
            // GGUF stores Llama 3 scaling as per-pair divisors of the base frequencies.
            let factors = try vector(.ropeFrequencies, count: c.headDim / 2)
            frequencies = zip(RopeTable.inverseFrequencies(theta: c.ropeTheta, rotaryDim: c.headDim), factors).map { $0 / Double($1) }
        }
        rope = RopeTable(style: c.ropeStyle, headDim: c.headDim, rotaryDim: c.headDim, maxPositions: c.maxPositionEmbeddings, inverseFrequencies: frequencies)
        let typeNames = Set(layers.flatMap { [$0.q.type, $0.gate.type, $0.down.type] }.map { "\($0)" }).sorted().joined(separator: "/")
        let head = switch (options.precision, output == nil) {
        case (.int8, true): "q8_0 (online, from the tied \(storedHead) embedding)"
        case (.int8, false): "q8_0 (online from \(storedHead))"
        case (_, true): "tied"
        case (_, false): "\(lmHead.type)"
        }
        let online = options.precision == .int8 ? " (online from \(storedTypes))" : ""
        weightDescription = "weights \(typeNames)\(online), embedding \(embedding.type), lm head \(head)"
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
            batch.slotMapping.withUnsafeBufferPointer { slots in
                let (keys, values) = (cache.keys[i], cache.values[i])
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
            attention(batch, layer: i, cache: cache, q: q, out: attn, context: context)
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

    /// Attention of every row against its sequence's paged K/V, one (row, KV head) item each.
    private func attention(_ batch: ForwardBatch, layer: Int, cache: KVCache, q: UnsafeMutablePointer<Float>,
                           out: UnsafeMutablePointer<Float>, context: KernelContext) {
        let c = configuration
        let group = c.numHeads / c.numKVHeads
        // Per-thread scratch, padded so no two threads write one cache line.
        let scratchFloats = (attentionScratchFloats(layout: cache.layout, heads: group) + 15) / 16 * 16 + 16
        let scratch = workspace.attentionScratch(floats: scratchFloats * context.pool.threadCount)
        // One parallel region for the whole batch: work item = (query row, KV head), the row's
        // `group` query heads together (they read the same K/V). Rows are numbered across
        // sequences in batch order; a decode batch of 32 is 32 · kvHeads items in one region
        // rather than 32 regions.
        context.pool.parallelFor(batch.tokenCount * c.numKVHeads, AttentionItems(
            layout: cache.layout, dtype: cache.dtype, keys: UnsafeRawPointer(cache.keys[layer]), values: UnsafeRawPointer(cache.values[layer]),
            sequences: batch.sequences, q: q, out: out, kvHeads: c.numKVHeads, group: group, headDim: c.headDim,
            scale: 1 / Float(c.headDim).squareRoot(), scratch: scratch, scratchFloats: scratchFloats))
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
        s.blockTable.withUnsafeBufferPointer { table in
            switch dtype {
            case .float32:
                attendHeadGroup(layout: layout, keyCache: keys.assumingMemoryBound(to: Float.self),
                                valueCache: values.assumingMemoryBound(to: Float.self), q: q + offset, out: out + offset,
                                heads: group, kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                contextLength: contextLength, scratch: scratch)
            case .float16:
                attendHeadGroup(layout: layout, keyCache: keys.assumingMemoryBound(to: Float16.self),
                                valueCache: values.assumingMemoryBound(to: Float16.self), q: q + offset, out: out + offset,
                                heads: group, kvHead: kvHead, scale: scale, blockTable: table.baseAddress!,
                                contextLength: contextLength, scratch: scratch)
            }
        }
    }
}

/// Reusable activation buffers of one forward pass, grown to the largest batch seen.
final class Workspace {
    private(set) var capacity = 0
    var x = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, hidden] residual stream
    var h = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, hidden] normed input / block output
    var q = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, heads·headDim]
    var k = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, kvHeads·headDim]
    var v = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, kvHeads·headDim]
    var attn = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, heads·headDim]
    var gate = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, ffn]
    var up = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, ffn]

    func reserve(tokens: Int, hidden: Int, qDim: Int, kvDim: Int, ffn: Int) {
        guard tokens > capacity else { return }
        release()
        let n = max(tokens, capacity * 2)
        x = .allocate(capacity: n * hidden)
        h = .allocate(capacity: n * hidden)
        q = .allocate(capacity: n * qDim)
        k = .allocate(capacity: n * kvDim)
        v = .allocate(capacity: n * kvDim)
        attn = .allocate(capacity: n * qDim)
        gate = .allocate(capacity: n * ffn)
        up = .allocate(capacity: n * ffn)
        capacity = n
    }

    private var scratch = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var scratchCapacity = 0

    /// At least `floats` floats of attention scratch (contents undefined), grown when needed.
    func attentionScratch(floats: Int) -> UnsafeMutablePointer<Float> {
        if floats > scratchCapacity {
            scratch.deallocate()
            scratch = .allocate(capacity: floats)
            scratchCapacity = floats
        }
        return scratch
    }

    private func release() {
        for p in [x, h, q, k, v, attn, gate, up] { p.deallocate() }
    }

    deinit {
        release()
        scratch.deallocate()
    }
}
