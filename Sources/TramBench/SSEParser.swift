/// An incremental parser for server-sent events (`text/event-stream`), fed bytes as they come
/// off the socket; it returns the `data` of each complete event.
///
/// Reads split the stream anywhere: in the middle of an event, of a line, of a "\r\n" pair or of
/// a multi-byte UTF-8 character. So bytes wait in `line` until their line ends, and a line ends
/// at "\n", "\r\n" or a lone "\r", as the SSE specification says; a "\r" that ends one read and
/// the "\n" that starts the next are one line end, not two. An event ends at a blank line; its
/// data is its "data:" lines joined with "\n" (one space after the colon is dropped). Comment
/// lines (":" first, the keep-alive pings some servers send) and the other fields (`event`,
/// `id`, `retry`) are ignored: OpenAI-style streams carry everything in `data`.
///
///     feed("data: {\"a\"")  → []
///     feed(": 1}\n\nda")     → ["{\"a\": 1}"]
///     feed("ta: [DONE]\n\n") → ["[DONE]"]
package struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var hasData = false
    /// The last byte seen was "\r": a "\n" right after it belongs to the same line end.
    private var afterCR = false

    package init() {}

    /// Consumes `bytes` and returns the data of every event they complete, in order.
    package mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        var events: [String] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                endLine(into: &events)
            case UInt8(ascii: "\r"):
                afterCR = true
                endLine(into: &events)
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// The stream has ended: an event that lacks its closing blank line is still delivered
    /// (a server that closes right after `data: [DONE]` loses nothing).
    package mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty { endLine(into: &events) }
        dispatch(into: &events)
        afterCR = false
        return events
    }

    private mutating func endLine(into events: inout [String]) {
        defer { line.removeAll(keepingCapacity: true) }
        guard let first = line.first else {
            dispatch(into: &events)
            return
        }
        if first == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        guard line[..<colon].elementsEqual("data".utf8) else { return }
        var valueStart = colon < line.endIndex ? colon + 1 : colon
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        dataLines.append(String(decoding: line[valueStart...], as: UTF8.self))
        hasData = true
    }

    private mutating func dispatch(into events: inout [String]) {
        guard hasData else { return }
        events.append(dataLines.joined(separator: "\n"))
        dataLines.removeAll(keepingCapacity: true)
        hasData = false
    }
}
