/// The character classes the pre-tokenizer regexes test: `\p{L}`, `\p{N}` and `\s`.
///
/// `\p{L}` is the general categories Lu Ll Lt Lm Lo, `\p{N}` is Nd Nl No, and `\s` is the
/// Unicode `White_Space` property (25 scalars; U+001C–U+001F are *not* whitespace here,
/// unlike Python's `str.isspace`). Checked exhaustively against Python `regex` and Oniguruma
/// (inside `tokenizers`): they agree except that Oniguruma's older Unicode tables lack
/// letters and digits assigned since, which it classifies as other.
enum ScalarClass: UInt8, Sendable {
    case letter
    case number
    case whitespace
    case other

    /// Classes of the Basic Multilingual Plane, computed once on first use.
    private static let basicPlane: [ScalarClass] = (0..<0x10000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .other }
        return compute(scalar)
    }

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        scalar.value < 0x10000 ? basicPlane[Int(scalar.value)] : compute(scalar)
    }

    private static func compute(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

extension Unicode.Scalar {
    var isCarriageReturnOrNewline: Bool { value == 0x0A || value == 0x0D }
}
