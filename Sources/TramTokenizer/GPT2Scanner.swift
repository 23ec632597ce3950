/// GPT-2's pre-tokenizer, a hand-written scanner equal to `findall` of
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// At each position the first alternative that matches wins, as in the regex. Whitespace is
/// the subtle part: a run followed by a word gives up its last scalar so that the word keeps
/// its leading space ("a   b" → "a", "  ", " b"), but a single scalar other than U+0020 before
/// a word stands alone ("a\tb" → "a", "\t", "b"). Every scalar falls in some alternative, so
/// the pieces always concatenate back to the input.
struct GPT2Scanner: PreTokenizer {
    func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        let end = text.endIndex
        var i = text.startIndex
        while i < end {
            let start = i
            let scalar = text[i]
            if scalar == "'", let length = contractionLength(text, at: i, ignoringCase: false) {
                i += length
            } else {
                let scalarClass = ScalarClass.of(scalar)
                if scalar == " ", i + 1 < end, ScalarClass.of(text[i + 1]) != .whitespace {
                    // " ?\p{L}+", " ?\p{N}+" or " ?[^\s\p{L}\p{N}]+" with the optional space.
                    let runClass = ScalarClass.of(text[i + 1])
                    i = skipRun(of: runClass, in: text, from: i + 1)
                } else if scalarClass != .whitespace {
                    i = skipRun(of: scalarClass, in: text, from: i)
                } else {
                    let runEnd = skipRun(of: .whitespace, in: text, from: i)
                    // "\s+(?!\S)" backs off one scalar when a non-space follows; a lone
                    // scalar then falls through to "\s+".
                    i = (runEnd < end && runEnd - i >= 2) ? runEnd - 1 : runEnd
                }
            }
            pieces.append(text[start..<i])
        }
    }
}

/// The end of the run of scalars of `scalarClass` starting at `start`.
@inline(__always)
func skipRun(of scalarClass: ScalarClass, in text: ArraySlice<Unicode.Scalar>, from start: Int) -> Int {
    var i = start
    while i < text.endIndex, ScalarClass.of(text[i]) == scalarClass { i += 1 }
    return i
}

/// The length of the contraction `'s|'t|'re|'ve|'m|'ll|'d` at `index` (which holds `'`), or nil.
/// `ignoringCase` is Unicode simple case folding as Oniguruma and Python `regex` apply it to
/// `(?i:…)`: ASCII letters, plus "ſ" (U+017F LONG S), which folds to "s" ("'ſV" → "'ſ", "V").
/// llama.cpp spells its Llama 3 pattern `'[sS]` and so differs on that one character.
func contractionLength(_ text: ArraySlice<Unicode.Scalar>, at index: Int, ignoringCase: Bool) -> Int? {
    func letter(_ offset: Int) -> UInt32? {
        guard index + offset < text.endIndex else { return nil }
        let value = text[index + offset].value
        if ignoringCase, (0x41...0x5A).contains(value) { return value + 0x20 }
        if ignoringCase, value == 0x17F { return Unicode.Scalar("s").value }
        return value
    }
    guard let first = letter(1) else { return nil }
    switch Unicode.Scalar(first) {
    case "s", "t", "m", "d":
        return 2
    case "r", "v":
        return letter(2) == Unicode.Scalar("e").value ? 3 : nil
    case "l":
        return letter(2) == Unicode.Scalar("l").value ? 3 : nil
    default:
        return nil
    }
}
