/// Hermes-style calls (Qwen2.5, Hermes 2/3, …; vLLM's `hermes`): each call is a JSON object
/// `{"name": …, "arguments": …}` between `<tool_call>` and `</tool_call>`; text outside the tags
/// is content. A tag split across pieces of the stream is held back until it is known.
public struct HermesToolCallParser: ToolCallParser {
    static let open = "<tool_call>"
    static let close = "</tool_call>"

    private var pending = ""
    private var inside = false
    private var call = JSONCallStream()
    private var calls = 0
    /// The current call's JSON object ended; waiting for the closing tag.
    private var objectDone = false

    public init() {}

    public mutating func feed(_ text: String) -> [ToolCallEvent] {
        pending += text
        var events: [ToolCallEvent] = []
        while true {
            if !inside {
                if let r = pending.firstRange(of: Self.open) {
                    content(String(pending[..<r.lowerBound]), into: &events)
                    pending = String(pending[r.upperBound...])
                    inside = true
                    call = JSONCallStream()
                    objectDone = false
                    continue
                }
                // Keep a possible start of the tag; the rest is content.
                let keep = pending.partialSuffix(of: Self.open)
                content(String(pending.dropLast(keep)), into: &events)
                pending = String(pending.suffix(keep))
                return events
            }
            // Inside a call: everything up to the closing tag is the call's JSON.
            let end = pending.firstRange(of: Self.close)
            let body = end.map { String(pending[..<$0.lowerBound]) } ?? String(pending.dropLast(pending.partialSuffix(of: Self.close)))
            if !objectDone {
                let (e, reading) = call.update(body, index: calls)
                events += e
                if reading.end != nil { objectDone = true }
            }
            guard let end else { return events }
            if call.started {
                calls += 1
            } else {
                // Not a call after all (no name could be read): the text stays the user's.
                events.append(.content(Self.open + body + Self.close))
            }
            pending = String(pending[end.upperBound...])
            inside = false
        }
    }

    /// Text outside the tags; whitespace between and after calls is dropped.
    private func content(_ text: String, into events: inout [ToolCallEvent]) {
        guard !text.isEmpty, !(calls > 0 && text.trimmingWhitespace.isEmpty) else { return }
        events.append(.content(text))
    }

    public mutating func finish() -> [ToolCallEvent] {
        var events: [ToolCallEvent] = []
        if inside {
            // A call the output never closed: kept if its name came out, else it is text.
            if !objectDone {
                let (e, _) = call.update(pending, index: calls)
                events += e
            }
            if call.started { calls += 1 } else { events.append(.content(Self.open + pending)) }
        } else {
            content(pending, into: &events)
        }
        pending = ""
        inside = false
        return events
    }
}

/// `tool_choice: "required"`: the output is a JSON array of `{"name", "parameters"}` objects
/// (the grammar makes it so); each element is a call.
public struct RequiredToolCallParser: ToolCallParser {
    private var text: [Character] = []
    private var calls = 0
    private var call = JSONCallStream()
    /// Where the current element may start in `text` (after `[` or the previous element);
    /// nil before `[`.
    private var elementStart: Int?
    private var done = false

    public init() {}

    public mutating func feed(_ more: String) -> [ToolCallEvent] {
        text += more
        var events: [ToolCallEvent] = []
        if elementStart == nil, !done {
            guard let open = text.firstIndex(of: "[") else { return [] }
            elementStart = open + 1
        }
        while !done, var start = elementStart {
            while start < text.count, text[start].isWhitespace || text[start] == "," { start += 1 }
            elementStart = start
            if start < text.count, text[start] == "]" { done = true; break }
            guard start < text.count else { return events }
            let element = String(text[start...])
            let (e, reading) = call.update(element, index: calls)
            events += e
            guard let end = reading.end else { return events }
            calls += 1
            elementStart = start + element[..<end].count
            call = JSONCallStream()
        }
        return events
    }

    public mutating func finish() -> [ToolCallEvent] { [] }
}

/// A named `tool_choice`: the whole output is the arguments of that function.
public struct NamedToolCallParser: ToolCallParser {
    private let name: String
    private var started = false

    public init(name: String) {
        self.name = name
    }

    public mutating func feed(_ text: String) -> [ToolCallEvent] {
        var events: [ToolCallEvent] = []
        if !started {
            started = true
            events.append(.start(index: 0, name: name))
        }
        if !text.isEmpty { events.append(.arguments(index: 0, text)) }
        return events
    }

    public mutating func finish() -> [ToolCallEvent] {
        started ? [] : [.start(index: 0, name: name)]
    }
}
