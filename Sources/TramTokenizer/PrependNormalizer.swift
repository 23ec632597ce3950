/// Prepends a string to non-empty text (tokenizer.json `Prepend`, e.g. "▁" for Llama 2).
struct PrependNormalizer: Normalizer {
    var prefix: [Unicode.Scalar]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.isEmpty ? text : prefix + text
    }
}
