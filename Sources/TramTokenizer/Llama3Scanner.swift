/// Llama 3's pre-tokenizer (and Qwen2's, which differs only in the digit run length), a
/// hand-written scanner equal to `findall` of
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// with `\p{N}{1,3}` replaced by `\p{N}` for Qwen2 (`maximumDigits` 1).
/// Differences from GPT-2 worth knowing: any one non-letter, non-digit scalar other than CR/LF
/// joins the word after it ("hello!world" → "hello", "!world"); punctuation keeps trailing
/// newlines ("!\n\n" is one piece); and whitespace up to the last CR/LF of a run is one piece
/// ("a  \n  b" → "a", "  \n", " ", " b").
struct Llama3Scanner: PreTokenizer {
    /// The longest run of digits in one piece: 3 for Llama 3, 1 for Qwen2.
    var maximumDigits: Int

    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        let end = text.endIndex
        var i = text.startIndex
        while i < end {
            let start = i
            let scalar = text[i]
            let scalarClass = ScalarClass.of(scalar)
            let nextClass = i + 1 < end ? ScalarClass.of(text[i + 1]) : nil
            if scalar == "'", let length = contractionLength(text, at: i, ignoringCase: true) {
                i += length
            } else if scalarClass == .letter {
                i = skipRun(of: .letter, in: text, from: i)
            } else if scalarClass != .number, !scalar.isCarriageReturnOrNewline, nextClass == .letter {
                // "[^\r\n\p{L}\p{N}]?\p{L}+" with its one leading scalar.
                i = skipRun(of: .letter, in: text, from: i + 1)
            } else if scalarClass == .number {
                i += 1
                while i < end, i - start < maximumDigits, ScalarClass.of(text[i]) == .number { i += 1 }
            } else if scalarClass == .other || (scalar == " " && nextClass == .other) {
                // " ?[^\s\p{L}\p{N}]+[\r\n]*"
                i = skipRun(of: .other, in: text, from: scalarClass == .other ? i : i + 1)
                while i < end, text[i].isCarriageReturnOrNewline { i += 1 }
            } else {
                let runEnd = skipRun(of: .whitespace, in: text, from: i)
                if let lastNewline = text[i..<runEnd].lastIndex(where: { $0.isCarriageReturnOrNewline }) {
                    // "\s*[\r\n]+": everything up to and including the run's last CR/LF.
                    i = lastNewline + 1
                } else {
                    // "\s+(?!\S)|\s+", as in GPT-2.
                    i = (runEnd < end && runEnd - i >= 2) ? runEnd - 1 : runEnd
                }
            }
            pieces.append(text[start..<i])
        }
    }
}
