/// Stop strings as Unicode scalar sequences (Python's code points, as vLLM matches them: a
/// Swift `Character` comparison would let "e" fail to match before a combining accent).
package struct StopStrings: Sendable {
    package let strings: [[Unicode.Scalar]]
    package let originals: [String]

    package init(_ stop: [String]) {
        originals = stop
        strings = stop.map { Array($0.unicodeScalars) }
    }

    package var isEmpty: Bool { strings.isEmpty }

    /// The earliest match in `text` that ends after `newFrom` (text before it was searched
    /// already), as (start, index into the stop list); on equal starts the first listed wins.
    package func firstMatch(in text: [Unicode.Scalar], endingAfter newFrom: Int) -> (start: Int, which: Int)? {
        var best: (start: Int, which: Int)?
        for (which, s) in strings.enumerated() where !s.isEmpty && s.count <= text.count {
            var start = max(0, newFrom - s.count + 1)
            let last = text.count - s.count
            while start <= last {
                if let b = best, start >= b.start { break }
                if text[start] == s[0], text[start..<(start + s.count)].elementsEqual(s) {
                    best = (start, which)
                    break
                }
                start += 1
            }
        }
        return best
    }

    /// The length of the longest suffix of `text` that is a proper prefix of some stop string:
    /// text that could still become a stop string and so must not be streamed yet.
    /// E.g. stop "\n\nUser:" and text "Hi.\n\n" → 2.
    package func holdBack(_ text: [Unicode.Scalar]) -> Int {
        var longest = 0
        for s in strings {
            var k = min(s.count - 1, text.count)
            while k > longest {
                if text[(text.count - k)...].elementsEqual(s[..<k]) {
                    longest = k
                    break
                }
                k -= 1
            }
        }
        return longest
    }
}
