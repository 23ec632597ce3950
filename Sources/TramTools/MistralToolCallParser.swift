/// Mistral calls (vLLM's `mistral`): content, then the `[TOOL_CALLS]` control token and the calls,
/// in either of Mistral's two forms —
///   - before tokenizer v11: a JSON array `[{"name": "f", "arguments": {...}}, ...]`;
///   - v11 and later: `f{"a": 1}`, each further call after another `[TOOL_CALLS]` (or a comma).
/// `[TOOL_CALLS]` is a special token, so the request keeps special tokens in the text this parser
/// reads (`ToolCallParsers.readsSpecialTokens`), as vLLM does for this parser.
public struct MistralToolCallParser: ToolCallParser {
    static let tag = "[TOOL_CALLS]"

    /// content: before the tag; done: the calls ended in text that is not a call (content again).
    private enum Mode { case content, undecided, array, named, done }
    private var mode = Mode.content
    private var pending = ""
    /// After the tag: the text, and where the current call may start.
    private var text: [Character] = []
    private var start = 0
    private var array = RequiredToolCallParser()
    private var calls = 0
    /// The current named call: its name was sent, and how much of its arguments.
    private var named: (started: Bool, sent: Int) = (false, 0)

    public init() {}

    public mutating func feed(_ piece: String) -> [ToolCallEvent] {
        if mode == .content {
            pending += piece
            if let r = pending.firstRange(of: Self.tag) {
                let before = String(pending[..<r.lowerBound])
                text = Array(pending[r.upperBound...])
                pending = ""
                mode = .undecided
                return (before.isEmpty ? [] : [.content(before)]) + scan()
            }
            let keep = pending.partialSuffix(of: Self.tag)
            let out = String(pending.dropLast(keep))
            pending = String(pending.suffix(keep))
            return out.isEmpty ? [] : [.content(out)]
        }
        if mode == .done { return piece.isEmpty ? [] : [.content(piece)] }
        text += piece
        return scan()
    }

    private mutating func scan() -> [ToolCallEvent] {
        if mode == .undecided {
            guard let first = text.firstIndex(where: { !$0.isWhitespace }) else { return [] }
            mode = text[first] == "[" ? .array : .named
            start = first
        }
        switch mode {
        case .array:
            // The array form is the shape `tool_choice: "required"` makes: one parser reads both.
            let events = array.feed(String(text[start...]))
            start = text.count
            return events
        case .named:
            return scanNamed()
        default:
            return []
        }
    }

    /// `name{arguments}` calls, one after another.
    private mutating func scanNamed() -> [ToolCallEvent] {
        var events: [ToolCallEvent] = []
        while true {
            if !named.started {
                // Between calls: whitespace, commas and further tags.
                while true {
                    while start < text.count, text[start].isWhitespace || text[start] == "," { start += 1 }
                    let rest = String(text[start...])
                    if rest.hasPrefix(Self.tag) { start += Self.tag.count; continue }
                    if Self.tag.hasPrefix(rest), !rest.isEmpty { return events }
                    break
                }
                guard start < text.count else { return events }
                guard let brace = text[start...].firstIndex(of: "{") else {
                    if text[start...].allSatisfy(Self.isNameCharacter) { return events }
                    mode = .done
                    return events + [.content(String(text[start...]))]
                }
                let name = String(text[start..<brace])
                guard !name.isEmpty, name.allSatisfy(Self.isNameCharacter) else {
                    mode = .done
                    return events + [.content(String(text[start...]))]
                }
                events.append(.start(index: calls, name: name))
                named = (true, 0)
                start = brace
            }
            let value = Substring(String(text[start...]))
            let end = JSONCallScanner.valueEnd(value, from: value.startIndex)
            let arguments = value[..<(end ?? value.endIndex)]
            if arguments.count > named.sent {
                events.append(.arguments(index: calls, String(arguments.dropFirst(named.sent))))
                named.sent = arguments.count
            }
            guard end != nil else { return events }
            start += arguments.count
            calls += 1
            named = (false, 0)
        }
    }

    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
    }

    public mutating func finish() -> [ToolCallEvent] {
        defer { pending = "" }
        switch mode {
        case .content: return pending.isEmpty ? [] : [.content(pending)]
        case .array: return array.finish()
        default: return []
        }
    }
}
