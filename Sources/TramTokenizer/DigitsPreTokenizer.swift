/// Isolates digits (`\p{N}`) from the text around them (tokenizer.json `Digits`).
///
/// With `individualDigits` every digit is its own piece ("a123" → "a", "1", "2", "3"), as
/// SmolLM2 does before its GPT-2 regex; otherwise each run of digits is one piece.
struct DigitsPreTokenizer: PreTokenizer {
    var individualDigits: Bool

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        var i = text.startIndex
        while i < text.endIndex {
            let start = i
            if ScalarClass.of(text[i]) == .number {
                i = individualDigits ? i + 1 : skipRun(of: .number, in: text, from: i)
            } else {
                while i < text.endIndex, ScalarClass.of(text[i]) != .number { i += 1 }
            }
            pieces.append(text[start..<i])
        }
    }
}
