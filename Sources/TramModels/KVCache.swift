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
            let p = UnsafeMutablePointer<Float>.allocate(capacity: layout.layerFloats)
            p.initialize(repeating: 0, count: layout.layerFloats)
            return p
        }
        values = (0..<numLayers).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: layout.layerFloats)
            p.initialize(repeating: 0, count: layout.layerFloats)
            return p
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
