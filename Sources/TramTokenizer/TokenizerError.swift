/// Everything that can go wrong while building a tokenizer from outside data.
///
/// Encoding and decoding never throw: every string has an encoding, and ids that name no
/// token are skipped when decoding.
public enum TokenizerError: Error, Equatable, Sendable {
    /// The bytes are not valid JSON; `offset` is the byte where parsing stopped.
    case invalidJSON(offset: Int, reason: String)
    /// A JSON key is missing or holds the wrong kind of value; `path` names it, e.g. `model.vocab`.
    case invalidValue(path: String, reason: String)
    /// The configuration names a component or option this tokenizer does not implement.
    case unsupported(component: String, detail: String)
    /// A `Split` pre-tokenizer uses a regular expression that has no hand-written scanner.
    case unknownSplitPattern(String)
    /// A GGUF `tokenizer.ggml.pre` value that names no known pre-tokenizer.
    case unknownPreTokenizer(String)
    /// A GGUF `tokenizer.ggml.model` value that names no known tokenizer model.
    case unknownModel(String)
    /// A merge rule names a token that is not in the vocabulary; `index` is its position in the list.
    case invalidMerge(index: Int, merge: String)
    /// A token id is outside the vocabulary; `key` names where it came from.
    case tokenIDOutOfRange(key: String, id: Int, vocabularySize: Int)
    /// Two parallel arrays (tokens and their types or scores) disagree in length.
    case lengthMismatch(key: String, expected: Int, actual: Int)
    /// The vocabulary has no token at all.
    case emptyVocabulary
}
