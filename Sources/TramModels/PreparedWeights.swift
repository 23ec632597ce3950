import TramKernels

/// A model's matrices as its forward pass multiplies them, made from the stored ones as
/// `LoadOptions.precision` asks. Every architecture goes through here, so `--float32`,
/// `--quantization int8` and the kernels' packed layouts mean the same for each:
///
/// - `.native`: quantized matrices repacked for this CPU's kernels (x16 on AVX-512 VNNI; a tied
///   embedding is packed once and its lookups unpack the row they read), float ones as stored;
/// - `.float32`: every matrix dequantized to f32;
/// - `.int8`: the linear weights and the LM head quantized to Q8_0 online (`OnlineQuantizer`).
///   The LM head is a linear layer even when it shares the embedding's table: it gets a
///   quantized copy and the lookup keeps reading the stored rows.
struct PreparedWeights {
    var embedding: WeightMatrix  // [vocab, hidden], the lookup table
    var linears: [WeightMatrix]  // in the order given
    var lmHead: WeightMatrix  // [vocab, hidden]
    /// "weights …, embedding …, lm head …", for `CausalLM.weightDescription`.
    var description: String
    /// f32 when the model computes in f32 (`--float32`, or f32 linear weights), else f16.
    var defaultKVCacheDType: KVCacheDType

    /// - Parameters:
    ///   - linears: every linear weight with its name, as stored.
    ///   - output: the file's own LM head, or nil when it is the embedding (tied).
    ///   - described: indices into `linears` whose types the description lists.
    ///   - queryProjections: indices into `linears` of the q projections: f32 ones mean the
    ///     model computes in f32, so its KV cache defaults to f32 too.
    init(embedding stored: WeightMatrix, linears: [(name: TensorName, matrix: WeightMatrix)], output: WeightMatrix?,
         described: [Int], queryProjections: [Int], path: String, options: LoadOptions) throws(ModelError) {
        let storedTypes = Set(described.map { "\(linears[$0].matrix.type)" }).sorted().joined(separator: "/")
        let storedHead = output?.type ?? stored.type
        defaultKVCacheDType = options.precision == .float32 || queryProjections.contains { linears[$0].matrix.type == .f32 } ? .float32 : .float16
        switch options.precision {
        case .native:
            embedding = stored.packedForKernels()
            self.linears = linears.map { $0.matrix.packedForKernels() }
            lmHead = output?.packedForKernels() ?? embedding
        case .float32:
            embedding = stored.dequantizedToFloat32()
            self.linears = linears.map { $0.matrix.dequantizedToFloat32() }
            lmHead = output?.dequantizedToFloat32() ?? embedding
        case .int8:
            let head: (name: TensorName, matrix: WeightMatrix) = output.map { (.output, $0) } ?? (.tokenEmbedding, stored)
            let quantizer = OnlineQuantizer(path: path, threads: options.threads, logger: options.logger)
            let quantized = try quantizer.quantize(linears + [head])
            embedding = stored
            self.linears = quantized.dropLast().map { $0.packedForKernels() }
            lmHead = quantized[quantized.count - 1].packedForKernels()
        }
        let prepared = self.linears
        let typeNames = Set(described.map { "\(prepared[$0].type)" }).sorted().joined(separator: "/")
        let head = switch (options.precision, output == nil) {
        case (.int8, true): "q8_0 (online, from the tied \(storedHead) embedding)"
        case (.int8, false): "q8_0 (online from \(storedHead))"
        case (_, true): "tied"
        case (_, false): "\(lmHead.type)"
        }
        let online = options.precision == .int8 ? " (online from \(storedTypes))" : ""
        description = "weights \(typeNames)\(online), embedding \(embedding.type), lm head \(head)"
    }
}
