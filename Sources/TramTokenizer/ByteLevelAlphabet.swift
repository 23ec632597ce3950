/// GPT-2's reversible map between bytes and printable characters.
///
/// Byte-level BPE vocabularies spell every byte as one visible character so that tokens are
/// ordinary strings: printable bytes stand for themselves (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) and
/// the other 68 bytes take U+0100 onwards in byte order, so a space (0x20) is `Ġ` (U+0120)
/// and a newline (0x0A) is `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// `scalars[byte]` is the character that spells `byte`.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character spells, or nil when it is not part of the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if (0x21...0x7E).contains(value) || (0xA1...0xAC).contains(value) || (0xAE...0xFF).contains(value) {
            return UInt8(value)
        }
        guard (256..<324).contains(value) else { return nil }
        return nonPrintable[Int(value - 256)]
    }

    private static let nonPrintable: [UInt8] = (0..<256).compactMap { byte -> UInt8? in
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        return printable ? nil : UInt8(byte)
    }

    /// The bytes a token spells, or nil when one of its characters is outside the alphabet
    /// (added tokens such as "<|im_start|>" spell themselves and are decoded as their UTF-8).
    static func bytes(for token: String) -> [UInt8]? {
        var result: [UInt8] = []
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            result.append(byte)
        }
        return result
    }

    /// The token string spelling `bytes`.
    static func spell<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(scalars[Int(byte)]) }
        return String(view)
    }
}
