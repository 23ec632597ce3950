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
///     q5_0  { f16 d; u8 qh[4]; u8 qs[16] }             x = d·(q − 16), q = nibble | qh bit << 4
///     q5_1  { f16 d; f16 m; u8 qh[4]; u8 qs[16] }      x = d·q + m
///     iq4_nl { f16 d; u8 qs[16] }                      x = d·grid[nibble] (16 fixed levels)
///     q2_K  { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin }             256 elements, 84 bytes
///     q3_K  { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d }         256 elements, 110 bytes
///     q5_K  { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } 256 elements, 176 bytes
public enum DataType: Sendable, Hashable, CaseIterable {
    case f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K, q4_K, q5_K, q6_K

    /// Maps GGML's `ggml_type` numbering; nil for types Tram does not run.
    public init?(ggmlTypeID: UInt32) {
        switch ggmlTypeID {
        case 0: self = .f32
        case 1: self = .f16
        case 2: self = .q4_0
        case 3: self = .q4_1
        case 6: self = .q5_0
        case 7: self = .q5_1
        case 8: self = .q8_0
        case 10: self = .q2_K
        case 11: self = .q3_K
        case 12: self = .q4_K
        case 13: self = .q5_K
        case 20: self = .iq4_nl
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
        case .q5_0: 6
        case .q5_1: 7
        case .q8_0: 8
        case .q2_K: 10
        case .q3_K: 11
        case .q4_K: 12
        case .q5_K: 13
        case .iq4_nl: 20
        case .q6_K: 14
        case .bf16: 30
        }
    }

    /// Elements per block (1 for the float types).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: 256
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
        case .q5_0: 22
        case .q5_1: 24
        case .iq4_nl: 18
        case .q2_K: 84
        case .q3_K: 110
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        }
    }

    /// Bytes of one row of `columns` elements. `columns` must be a multiple of `blockElements`
    /// (file readers check that and throw before building a `WeightMatrix`).
    public func rowBytes(columns: Int) -> Int {
        precondition(columns % blockElements == 0, "\(columns) columns is not a whole number of \(self) blocks")
        return columns / blockElements * blockBytes
    }

    /// Byte offsets of the f16 scale (and min) fields inside one block: tests and benchmarks fill
    /// random blocks and write realistic scales there.
    package var scaleFieldOffsets: [Int] {
        switch self {
        case .f32, .f16, .bf16: []
        case .q8_0, .q4_0, .q5_0, .iq4_nl: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q6_K: [208]
        }
    }

    /// True for the block-quantized integer types.
    public var isQuantized: Bool {
        switch self {
        case .f32, .f16, .bf16: false
        default: true
        }
    }
}
