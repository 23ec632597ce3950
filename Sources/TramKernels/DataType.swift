/// The element encoding of a weight tensor, as stored in its file (GGUF or safetensors).
///
/// Quantized types group `blockElements` consecutive values of a row into one block of
/// `blockBytes` bytes, with ggml's exact layouts (`ggml-common.h`):
///
///     q8_0  { f16 d; i8 qs[32] }                       x = d·q
///     q4_0  { f16 d; u8 qs[16] }                       x = d·(q − 8)
///     q4_1  { f16 d; f16 m; u8 qs[16] }                x = d·q + m
///           (q4_*: low nibbles are elements 0–15, high nibbles 16–31)
///     q4_K  { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }          256 elements, 144 bytes
///     q6_K  { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }          256 elements, 210 bytes
public enum DataType: Sendable, Hashable, CaseIterable {
    case f32, f16, bf16, q8_0, q4_0, q4_1, q4_K, q6_K

    /// Maps GGML's `ggml_type` numbering; nil for types Tram does not run.
    public init?(ggmlTypeID: UInt32) {
        switch ggmlTypeID {
        case 0: self = .f32
        case 1: self = .f16
        case 2: self = .q4_0
        case 3: self = .q4_1
        case 8: self = .q8_0
        case 12: self = .q4_K
        case 14: self = .q6_K
        case 30: self = .bf16
        default: return nil
        }
    }

    /// GGML's `ggml_type` number for this type.
    public var ggmlTypeID: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 8
        case .q4_K: 12
        case .q6_K: 14
        case .bf16: 30
        }
    }

    /// Elements per block (1 for the float types).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0, .q4_1: 32
        case .q4_K, .q6_K: 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        case .q4_K: 144
        case .q6_K: 210
        }
    }

    /// Bytes of one row of `columns` elements. `columns` must be a multiple of `blockElements`
    /// (file readers check that and throw before building a `WeightMatrix`).
    public func rowBytes(columns: Int) -> Int {
        precondition(columns % blockElements == 0, "\(columns) columns is not a whole number of \(self) blocks")
        return columns / blockElements * blockBytes
    }

    /// True for the block-quantized integer types.
    public var isQuantized: Bool {
        switch self {
        case .f32, .f16, .bf16: false
        default: true
        }
    }
}
