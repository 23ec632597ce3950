/// tokenizer.json `Split`: cuts text at a literal string, or with one of the known regexes.
///
/// Regexes are not interpreted: each known pattern string maps to a hand-written scanner
/// (`KnownPattern`), and any other pattern is refused when the tokenizer is built.
struct SplitPreTokenizer: PreTokenizer {
    enum Pattern: Sendable {
        case literal([Unicode.Scalar])
        case scanner(any PreTokenizer)
    }

    var pattern: Pattern
    var behavior: SplitDelimiterBehavior

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        switch pattern {
        case .literal(let literal):
            behavior.apply(occurrences(of: literal, in: text), to: text, into: &pieces)
        case .scanner(let scanner):
            // The scanners' pieces are exactly the regex matches and they cover the text, so
            // under `isolated` the pieces are the matches themselves.
            scanner.split(text, startsText: startsText, into: &pieces)
        }
    }
}

/// The regexes that have scanners, as they are spelled in tokenizer.json files and llama.cpp.
enum KnownPattern {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for `pattern`, or nil when it is not one of the known regexes.
    static func scanner(for pattern: String) -> (any PreTokenizer)? {
        let scalars = Array(pattern.unicodeScalars)
        if scalars == Array(gpt2.unicodeScalars) { return GPT2Scanner() }
        if scalars == Array(llama3.unicodeScalars) { return Llama3Scanner(maximumDigits: 3) }
        if scalars == Array(qwen2.unicodeScalars) { return Llama3Scanner(maximumDigits: 1) }
        return nil
    }
}
