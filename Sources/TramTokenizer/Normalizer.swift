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
