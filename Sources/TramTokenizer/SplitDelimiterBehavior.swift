/// What a splitting stage does with the delimiters it finds (tokenizer.json `behavior`).
///
/// For "a-b--c" split on "-": removed → a, b, c; isolated → a, -, b, -, -, c;
/// mergedWithPrevious → a-, b-, -, c; mergedWithNext → a, -b, -, -c;
/// contiguous → a, -, b, --, c. Empty pieces are never produced.
enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Appends the pieces of `text` given its delimiter `matches` (ascending, non-overlapping).
    func apply(
        _ matches: [Range<Int>], to text: ArraySlice<Unicode.Scalar>, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        var spans: [(range: Range<Int>, isMatch: Bool)] = []
        var position = text.startIndex
        for match in matches {
            if position < match.lowerBound { spans.append((position..<match.lowerBound, false)) }
            if !match.isEmpty { spans.append((match, true)) }
            position = match.upperBound
        }
        if position < text.endIndex { spans.append((position..<text.endIndex, false)) }

        var output: [Range<Int>] = []
        var lastIsMatch = false  // whether the last output piece ends with a delimiter
        var pendingStart: Int?  // mergedWithNext: where the delimiter waiting for its piece starts
        for span in spans {
            switch self {
            case .removed:
                if !span.isMatch { output.append(span.range) }
            case .isolated:
                output.append(span.range)
            case .contiguous:
                if span.isMatch, lastIsMatch, let last = output.last {
                    output[output.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    output.append(span.range)
                }
            case .mergedWithPrevious:
                if span.isMatch, !lastIsMatch, let last = output.last, last.upperBound == span.range.lowerBound {
                    output[output.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    output.append(span.range)
                }
            case .mergedWithNext:
                if span.isMatch {
                    if let start = pendingStart { output.append(start..<span.range.lowerBound) }
                    pendingStart = span.range.lowerBound
                } else if let start = pendingStart {
                    output.append(start..<span.range.upperBound)
                    pendingStart = nil
                } else {
                    output.append(span.range)
                }
            }
            lastIsMatch = span.isMatch
        }
        if let start = pendingStart { output.append(start..<text.endIndex) }
        for range in output where !range.isEmpty { pieces.append(text[range]) }
    }
}

/// The non-overlapping occurrences of `pattern` in `text`, left to right, compared scalar by scalar.
func occurrences(of pattern: [Unicode.Scalar], in text: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
    guard !pattern.isEmpty else { return [] }
    var matches: [Range<Int>] = []
    var i = text.startIndex
    while i + pattern.count <= text.endIndex {
        if text[i] == pattern[0], text[i..<(i + pattern.count)].elementsEqual(pattern) {
            matches.append(i..<(i + pattern.count))
            i += pattern.count
        } else {
            i += 1
        }
    }
    return matches
}
