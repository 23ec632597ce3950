public import TramKernels

/// Physical paged KV storage for every layer of a model (f32). Which blocks belong to which
/// sequence is bookkept elsewhere (the engine's block manager); this object only holds memory.
public final class KVCache: @unchecked Sendable {
    public let layout: PagedKVLayout
    public let numLayers: Int
    // per layer: [numBlocks, numKVHeads, blockSize, headDim]
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]

    public init(numLayers: Int, layout: PagedKVLayout) {
        self.layout = layout
        self.numLayers = numLayers
        keys = (0..<numLayers).map { _ in
            // Left uninitialised on purpose: attention only reads slots a forward pass has written,
            // and untouched pages cost no RAM, so a generous cache is free until it is used.
            UnsafeMutablePointer<Float>.allocate(capacity: layout.layerFloats)
        }
        values = (0..<numLayers).map { _ in
            // Left uninitialised on purpose: attention only reads slots a forward pass has written,
            // and untouched pages cost no RAM, so a generous cache is free until it is used.
            UnsafeMutablePointer<Float>.allocate(capacity: layout.layerFloats)
        }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Bytes of KV storage per token for a model shape (K and V, every layer, f32).
    public static func bytesPerToken(numLayers: Int, numKVHeads: Int, headDim: Int) -> Int {
        numLayers * 2 * numKVHeads * headDim * MemoryLayout<Float>.size
    }
}
