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
