/// Llama 3.x / 4 JSON calls (vLLM's `llama3_json`): an output that begins with `<|python_tag|>`
/// or `{` is one or more call objects `{"name": …, "parameters": …}` (or `"arguments"`)
/// separated by `;`. Any other output is content. If the output opens like a call but its first
/// object turns out not to be one (no name can be read), the whole output is content; text after
/// the last call (other than whitespace and `;`) is content too.
public struct Llama3JSONToolCallParser: ToolCallParser {
    static let tag = "<|python_tag|>"

    private enum Mode { case undecided, content, calls }
    private var mode = Mode.undecided
    /// Everything received, for the undecided start and the fallback to content.
    private var received = ""
    /// The text after the tag, and where the current call object may start in it.
    private var text: [Character] = []
    private var elementStart = 0
    private var call = JSONCallStream()
    private var calls = 0

    public init() {}

    public mutating func feed(_ piece: String) -> [ToolCallEvent] {
        received += piece
        switch mode {
        case .content:
            return piece.isEmpty ? [] : [.content(piece)]
        case .undecided:
            let start = received.drop { $0.isWhitespace }
            if start.isEmpty || (start.count < Self.tag.count && Self.tag.hasPrefix(start)) { return [] }
            if start.hasPrefix(Self.tag) {
                text = Array(start.dropFirst(Self.tag.count))
            } else if start.first == "{" {
                text = Array(start)
            } else {
                mode = .content
                return [.content(received)]
            }
            mode = .calls
            return scan()
        case .calls:
            text += piece
            return scan()
        }
    }

    /// Reads call objects from `elementStart` on.
    private mutating func scan() -> [ToolCallEvent] {
        var events: [ToolCallEvent] = []
        while mode == .calls {
            var start = elementStart
            while start < text.count, text[start].isWhitespace || text[start] == ";" { start += 1 }
            elementStart = start
            guard start < text.count else { return events }
            guard text[start] == "{" else { return events + rest(from: start) }
            let element = String(text[start...])
            let (e, reading) = call.update(element, index: calls)
            events += e
            if reading.invalid || (reading.end != nil && !call.started) {
                return events + rest(from: start)
            }
            guard let end = reading.end else { return events }
            calls += 1
            elementStart = start + element[..<end].count
            call = JSONCallStream()
        }
        return events
    }

    /// The text from `start` on is not a call: content from here (all of the output if no call
    /// came before it).
    private mutating func rest(from start: Int) -> [ToolCallEvent] {
        mode = .content
        if calls == 0 && !call.started { return [.content(received)] }
        let tail = String(text[start...])
        return tail.isEmpty ? [] : [.content(tail)]
    }

    public mutating func finish() -> [ToolCallEvent] {
        switch mode {
        case .undecided:
            mode = .content
            return received.isEmpty ? [] : [.content(received)]
        case .content:
            return []
        case .calls:
            mode = .content
            // A call the output cut short is kept if its name came out; else it was never a call.
            if call.started || elementStart >= text.count { return [] }
            return rest(from: elementStart)
        }
    }
}
