/// Lossy UTF-8 decoding that can stop before an incomplete final character.
///
/// Invalid bytes become U+FFFD, one per maximal subpart of an ill-formed sequence (Unicode
/// §3.9, the practice Rust's `from_utf8_lossy` follows), e.g. `E2 82 41` → "\u{FFFD}A" but
/// `C0 AF` → "\u{FFFD}\u{FFFD}". With `final` false, a tail that is a valid prefix of a
/// character (`F0 9F 98` of 😀) is left unconsumed so that the caller can wait for the rest;
/// decoding in pieces therefore gives exactly the text of decoding all at once.
enum UTF8Repair {
    /// Decodes `bytes`, returning the text and how many bytes it consumed.
    /// The text is assembled in stack scratch, so a token's worth of bytes (a small string)
    /// allocates nothing.
    static func decode(_ bytes: ArraySlice<UInt8>, final: Bool) -> (text: String, consumed: Int) {
        // Each input byte gives at most 3 output bytes (a lone invalid byte becomes U+FFFD).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, 3 * bytes.count)) { scratch in
            var output = Output(buffer: scratch)
            let consumed = decode(bytes, final: final, into: &output)
            return (String(decoding: UnsafeBufferPointer(rebasing: scratch[..<output.count]), as: UTF8.self), consumed)
        }
    }

    /// Bytes appended into fixed scratch.
    private struct Output {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        mutating func append(_ byte: UInt8) {
            buffer[count] = byte
            count += 1
        }

        mutating func append(contentsOf bytes: some Sequence<UInt8>) {
            for byte in bytes { append(byte) }
        }

        /// U+FFFD.
        mutating func appendReplacement() {
            append(0xEF)
            append(0xBF)
            append(0xBD)
        }
    }

    private static func decode(_ bytes: ArraySlice<UInt8>, final: Bool, into output: inout Output) -> Int {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let lead = bytes[i]
            if lead < 0x80 {
                output.append(lead)
                i += 1
                continue
            }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default:
                output.appendReplacement()
                i += 1
                continue
            }
            var valid = 1
            while valid < length, i + valid < end {
                let range = valid == 1 ? secondRange : 0x80...0xBF
                guard range.contains(bytes[i + valid]) else { break }
                valid += 1
            }
            if valid == length {
                output.append(contentsOf: bytes[i..<(i + length)])
                i += length
            } else if i + valid == end, !final {
                break  // a valid prefix cut by the end: wait for more bytes
            } else {
                output.appendReplacement()
                i += valid
            }
        }
        return i - bytes.startIndex
    }
}
