/// The last stage of the pipeline: the bytes each token stands for, and whether the decoded
/// text loses its first space (tokenizer.json `decoder`).
///
/// Every decoder Tram meets is per token, so decoding concatenates per-token bytes and then
/// repairs UTF-8 once; that is also what lets `StreamingDecoder` work token by token.
///  - byte level: "Ġworld" → " world" (`ByteLevelAlphabet`); tokens outside the alphabet,
///    such as "<|im_end|>", are their own UTF-8;
///  - SentencePiece: "▁world" → " world", "<0x0A>" → byte 0x0A, and the leading space that
///    encoding prepended is stripped from the start of the output.
struct TokenDecoder: Sendable {
    var byteLevel = false
    /// Literal replacements applied to the token text, e.g. "▁" → " ".
    var replacements: [(pattern: String, content: String)] = []
    /// "<0xNN>" tokens stand for the byte NN.
    var byteFallback = false
    /// Drop one leading space from the whole decoded text (tokenizer.json `Strip` with start 1,
    /// or Metaspace with a prepend scheme).
    var stripLeadingSpace = false

    func bytes(for token: String) -> [UInt8] {
        if byteFallback, let byte = parseByteFallbackToken(token) { return [byte] }
        if byteLevel, let bytes = ByteLevelAlphabet.bytes(for: token) { return bytes }
        var text = token
        for replacement in replacements {
            text = replaceOccurrences(of: replacement.pattern, with: replacement.content, in: text)
        }
        return Array(text.utf8)
    }
}

/// The byte of a "<0xNN>" token, or nil for any other token.
func parseByteFallbackToken(_ token: String) -> UInt8? {
    let utf8 = Array(token.utf8)
    guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
    return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
}

/// `text` with every occurrence of `pattern` replaced, compared scalar by scalar.
func replaceOccurrences(of pattern: String, with content: String, in text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    let matches = occurrences(of: Array(pattern.unicodeScalars), in: scalars[...])
    guard !matches.isEmpty else { return text }
    var result = String.UnicodeScalarView()
    var position = 0
    for match in matches {
        result.append(contentsOf: scalars[position..<match.lowerBound])
        result.append(contentsOf: content.unicodeScalars)
        position = match.upperBound
    }
    result.append(contentsOf: scalars[position...])
    return String(result)
}
