/// The first stage of the pipeline: rewrites the text between added tokens before it is split
/// (tokenizer.json `normalizer`). Byte-level models usually have none; SentencePiece-style
/// tokenizer.json files use it to turn spaces into "▁" and to prepend one.
protocol Normalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar]
}

/// Normalizers applied in order (tokenizer.json `Sequence`).
struct SequenceNormalizer: Normalizer {
    var stages: [any Normalizer]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        stages.reduce(text) { $1.normalize($0) }
    }
}

/// Prepends a string to non-empty text (tokenizer.json `Prepend`, e.g. "▁" for Llama 2).
struct PrependNormalizer: Normalizer {
    var prefix: [Unicode.Scalar]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.isEmpty ? text : prefix + text
    }
}

/// Replaces every occurrence of a literal string (tokenizer.json `Replace` with a `String`
/// pattern, e.g. " " → "▁").
struct ReplaceNormalizer: Normalizer {
    var pattern: [Unicode.Scalar]
    var content: [Unicode.Scalar]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let matches = occurrences(of: pattern, in: text[...])
        guard !matches.isEmpty else { return text }
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count)
        var position = 0
        for match in matches {
            result.append(contentsOf: text[position..<match.lowerBound])
            result.append(contentsOf: content)
            position = match.upperBound
        }
        result.append(contentsOf: text[position...])
        return result
    }
}
