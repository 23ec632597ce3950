public import TramKernels

/// The element type of the paged KV cache (vLLM's `--kv-cache-dtype`).
public enum KVCacheDType: String, Sendable, CaseIterable {
    /// f32: exact, twice the memory and the bytes attention reads.
    case float32
    /// f16, as llama.cpp keeps its cache: K/V rounded to 11 significant bits.
    case float16

    public var bytes: Int {
        switch self {
        case .float32: 4
        case .float16: 2
        }
    }
}

/// Physical paged KV storage for every layer of a model. Which blocks belong to which sequence
/// is bookkept elsewhere (the engine's block manager); this object only holds memory.
public final class KVCache: @unchecked Sendable {
    public let layout: PagedKVLayout
    public let numLayers: Int
    public let dtype: KVCacheDType
    // per layer: `layout.layerFloats` elements of `dtype` (see PagedKVLayout for the order)
    let keys: [UnsafeMutableRawPointer]
    let values: [UnsafeMutableRawPointer]

    public init(numLayers: Int, layout: PagedKVLayout, dtype: KVCacheDType = .float32) {
        self.layout = layout
        self.numLayers = numLayers
        self.dtype = dtype
        // Left uninitialised on purpose: attention only reads slots a forward pass has written,
        // and untouched pages cost no RAM, so a generous cache is free until it is used.
        let bytes = layout.layerFloats * dtype.bytes
        keys = (0..<numLayers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        values = (0..<numLayers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Bytes of KV storage per token for a model shape (K and V, every layer).
    public static func bytesPerToken(numLayers: Int, numKVHeads: Int, headDim: Int, dtype: KVCacheDType) -> Int {
        numLayers * 2 * numKVHeads * headDim * dtype.bytes
    }
}
