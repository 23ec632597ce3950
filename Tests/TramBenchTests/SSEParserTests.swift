import Testing
import TramBench
import TramTestSupport

struct SSEParserTests {
    /// A stream with everything a parser can trip on: CRLF and lone-CR line ends, a comment
    /// (keep-alive ping), multi-line data, "data:" without a space, an unknown field, multi-byte
    /// UTF-8, and a last event without its blank line.
    static let stream = Array((
        ": ping\r\n\r\n"
        + "data: {\"text\": \"caf\u{E9} \u{6F22}\u{5B57} \u{1F642}\"}\r\n\r\n"
        + "event: message\nid: 7\ndata: line one\ndata:line two\n\n"
        + "data: {\"a\": 1}\r\r"
        + "retry: 10\n\n"
        + "data: [DONE]"
    ).utf8)

    static let expected = [
        "{\"text\": \"caf\u{E9} \u{6F22}\u{5B57} \u{1F642}\"}",
        "line one\nline two",
        "{\"a\": 1}",
        "[DONE]",
    ]

    static func parse(_ pieces: [ArraySlice<UInt8>]) -> [String] {
        var parser = SSEParser()
        var events: [String] = []
        for piece in pieces { events += parser.feed(piece) }
        return events + parser.finish()
    }

    @Test func wholeStream() {
        #expect(Self.parse([Self.stream[...]]) == Self.expected)
    }

    @Test func byteByByte() {
        #expect(Self.parse(Self.stream.indices.map { Self.stream[$0...$0] }) == Self.expected)
    }

    /// Every single cut point: inside "\r\n", inside a UTF-8 character, inside "data:".
    @Test func everyTwoWaySplit() {
        for cut in 0...Self.stream.count {
            #expect(Self.parse([Self.stream[..<cut], Self.stream[cut...]]) == Self.expected, "cut at \(cut)")
        }
    }

    @Test func randomSplits() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            var pieces: [ArraySlice<UInt8>] = []
            var start = 0
            while start < Self.stream.count {
                let end = min(Self.stream.count, start + Int.random(in: 0...9, using: &generator))
                pieces.append(Self.stream[start..<end])
                start = end
            }
            #expect(Self.parse(pieces) == Self.expected)
        }
    }

    @Test func eventsAreDeliveredAsSoonAsTheyEnd() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: {\"a\"".utf8)) == [])
        #expect(parser.feed(Array(": 1}\n\nda".utf8)) == ["{\"a\": 1}"])
        #expect(parser.feed(Array("ta: [DONE]\n\n".utf8)) == ["[DONE]"])
        #expect(parser.finish() == [])
    }

    @Test func emptyDataIsAnEventButNoFieldIsNone() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data:\n\n\n\nid: 1\n\n".utf8)) == [""])
    }
}
