/// Finds added tokens in text: the leftmost match wins, the longest one among those starting
/// there, as the Aho–Corasick leftmost-longest search in `tokenizers` does. Matching is exact,
/// scalar by scalar, on the text before normalization.
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Candidates by first scalar, longest first.
    private let candidates: [Unicode.Scalar: [AddedToken]]
    /// Quick rejection for ASCII first scalars, which most text consists of.
    private let asciiStarts: [Bool]

    init(_ tokens: [AddedToken]) {
        var candidates: [Unicode.Scalar: [AddedToken]] = [:]
        for token in tokens {
            guard let first = token.content.first else { continue }
            candidates[first, default: []].append(token)
        }
        for key in candidates.keys {
            candidates[key]!.sort { $0.content.count > $1.content.count }
        }
        self.candidates = candidates
        asciiStarts = (0..<128).map { candidates[Unicode.Scalar(UInt8($0))] != nil }
    }

    var isEmpty: Bool { candidates.isEmpty }

    /// Cuts `text` into runs of plain text and added tokens, in order. Whitespace absorbed by
    /// `lstrip`/`rstrip` belongs to no segment.
    func segments(_ text: [Unicode.Scalar]) -> [Segment] {
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        while i < text.count {
            let scalar = text[i]
            if scalar.isASCII, !asciiStarts[Int(scalar.value)] {
                i += 1
                continue
            }
            guard let match = candidates[scalar]?.first(where: { token in
                i + token.content.count <= text.count && text[i..<(i + token.content.count)].elementsEqual(token.content)
            }) else {
                i += 1
                continue
            }
            var start = i
            var end = i + match.content.count
            if match.lstrip {
                while start > textStart, ScalarClass.of(text[start - 1]) == .whitespace { start -= 1 }
            }
            if match.rstrip {
                while end < text.count, ScalarClass.of(text[end]) == .whitespace { end += 1 }
            }
            if textStart < start { segments.append(.text(textStart..<start)) }
            segments.append(.token(match.id))
            textStart = end
            i = end
        }
        if textStart < text.count { segments.append(.text(textStart..<text.count)) }
        return segments
    }
}
