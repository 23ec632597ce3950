/// tokenizer.json `Metaspace`, SentencePiece's view of spaces: every " " becomes "▁" (U+2581),
/// a "▁" is prepended per `prependScheme`, and with `split` the text is cut before each "▁"
/// ("Hello world" → "▁Hello", "▁world").
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Sendable {
        /// Prepend to every piece that does not start with the replacement.
        case always
        /// Prepend only to the piece that starts the input.
        case first
        case never
    }

    var replacement: Unicode.Scalar = "\u{2581}"
    var prependScheme: PrependScheme = .always
    var split: Bool = true

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        var rewritten: [Unicode.Scalar] = []
        rewritten.reserveCapacity(text.count + 1)
        let prepend = switch prependScheme {
        case .always: true
        case .first: startsText
        case .never: false
        }
        if prepend, !text.isEmpty, text.first != " ", text.first != replacement {
            rewritten.append(replacement)
        }
        for scalar in text { rewritten.append(scalar == " " ? replacement : scalar) }
        let whole = rewritten[...]
        if split {
            SplitDelimiterBehavior.mergedWithNext.apply(occurrences(of: [replacement], in: whole), to: whole, into: &pieces)
        } else if !whole.isEmpty {
            pieces.append(whole)
        }
    }
}
