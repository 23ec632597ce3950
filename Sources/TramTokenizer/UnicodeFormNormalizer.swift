internal import Foundation

/// Unicode normalization forms and lowercasing (tokenizer.json `NFC`, `NFD`, `NFKC`, `NFKD`,
/// `Lowercase`; Qwen2 uses NFC), done by Foundation.
struct UnicodeFormNormalizer: Normalizer {
    enum Form: String, Sendable {
        case nfc = "NFC"
        case nfd = "NFD"
        case nfkc = "NFKC"
        case nfkd = "NFKD"
        case lowercase = "Lowercase"
    }

    var form: Form

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // ASCII is unchanged by every form but lowercasing; skip Foundation for it.
        if form != .lowercase, text.allSatisfy({ $0.isASCII }) { return text }
        let string = String(String.UnicodeScalarView(text))
        let result = switch form {
        case .nfc: string.precomposedStringWithCanonicalMapping
        case .nfd: string.decomposedStringWithCanonicalMapping
        case .nfkc: string.precomposedStringWithCompatibilityMapping
        case .nfkd: string.decomposedStringWithCompatibilityMapping
        case .lowercase: string.lowercased()
        }
        return Array(result.unicodeScalars)
    }
}
