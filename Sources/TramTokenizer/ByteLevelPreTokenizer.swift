/// tokenizer.json `ByteLevel` as a pre-tokenizer: optionally a leading space, then GPT-2's regex.
///
/// The byte-to-character mapping that `tokenizers` also performs here is left to the model
/// (`BytePairModel` with a byte-level alphabet), which turns each piece's UTF-8 straight into
/// token ids; that is equivalent because the mapping is one character per byte. It is why
/// ByteLevel must be the last pre-tokenizer stage (checked when the tokenizer is built).
struct ByteLevelPreTokenizer: PreTokenizer {
    /// Prepend " " to each piece that does not already start with one (`add_prefix_space`).
    var addPrefixSpace: Bool
    /// Split with GPT-2's regex (`use_regex`); without it each piece passes through whole.
    var useRegex: Bool

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        var text = text
        if addPrefixSpace, text.first != " " {
            text = ArraySlice([" "] + text)
        }
        if useRegex {
            GPT2Scanner().split(text, startsText: startsText, into: &pieces)
        } else if !text.isEmpty {
            pieces.append(text)
        }
    }
}
