/// A token's text as raw UTF-8 bytes, used as a dictionary key.
///
/// `String` keys are unusable for vocabularies: Swift compares strings by canonical
/// equivalence, so "é" (U+00E9) and "e\u{301}" would be the same key, while a tokenizer
/// must tell them apart exactly as Hugging Face `tokenizers` and llama.cpp do.
struct ByteString: Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    init(_ string: String) {
        bytes = Array(string.utf8)
    }

    init<S: Sequence<Unicode.Scalar>>(scalars: S) {
        bytes = []
        for scalar in scalars { bytes.append(contentsOf: scalar.utf8) }
    }

    static func == (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.bytes == rhs.bytes
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
