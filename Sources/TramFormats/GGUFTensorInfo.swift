/// Where one tensor lives in a GGUF file and what it holds.
///
/// `dimensions` are in ggml order: `dimensions[0]` is the fastest-varying (the row length,
/// i.e. the input features of a weight matrix), so a `[576, 1536]` GGUF matrix has 1536 rows
/// of 576 elements.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of the tensor's data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
    /// Elements per row (`dimensions[0]`).
    public var columns: Int { dimensions.first ?? 1 }
    /// Number of rows: the product of every dimension but the first.
    public var rows: Int { dimensions.dropFirst().reduce(1, *) }
}
