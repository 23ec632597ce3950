/// Tool calls read out of a model's text, as vLLM's tool parsers do (`--tool-call-parser`):
/// fed the output as it streams, a parser tells apart the text meant for the user (`content`)
/// from the calls, and reports each call as soon as its parts are known — its name first, then
/// its arguments' JSON text piece by piece — so a stream can send OpenAI's `delta.tool_calls`
/// without ever leaking the model's call markup into `content`. The pieces of a call's arguments
/// concatenate to the arguments of the finished call, so streamed and non-streamed responses
/// agree.
public protocol ToolCallParser: Sendable {
    /// Takes the next piece of output text; returns what it settles.
    mutating func feed(_ text: String) -> [ToolCallEvent]
    /// The output ended: whatever was held back.
    mutating func finish() -> [ToolCallEvent]
}

public enum ToolCallEvent: Equatable, Sendable {
    /// Text for the user.
    case content(String)
    /// Call `index` (0, 1, … in output order) begins: its name is known.
    case start(index: Int, name: String)
    /// More of call `index`'s arguments (JSON text).
    case arguments(index: Int, String)
}

/// A finished call.
public struct ToolCall: Equatable, Sendable {
    public var name: String
    public var arguments: String

    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

extension ToolCallParser {
    /// The whole output at once: the content (nil when only whitespace) and the calls.
    public mutating func parse(_ text: String) -> (content: String?, calls: [ToolCall]) {
        var content = ""
        var calls: [ToolCall] = []
        for event in feed(text) + finish() {
            switch event {
            case .content(let s): content += s
            case .start(_, let name): calls.append(ToolCall(name: name, arguments: ""))
            case .arguments(let i, let s): calls[i].arguments += s
            }
        }
        let trimmed = content.trimmingWhitespace
        return (trimmed.isEmpty ? nil : (calls.isEmpty ? content : trimmed), calls)
    }
}

/// The parsers `--tool-call-parser` names.
public enum ToolCallParsers {
    public static let names = ["hermes", "llama3_json", "llama4_json", "mistral", "pythonic"]

    public static func make(_ name: String) -> (any ToolCallParser)? {
        switch name {
        case "hermes": HermesToolCallParser()
        case "llama3_json", "llama4_json": Llama3JSONToolCallParser()
        case "mistral": MistralToolCallParser()
        case "pythonic": PythonicToolCallParser()
        default: nil
        }
    }

    /// Whether the parser reads a special token out of the text (Mistral's `[TOOL_CALLS]`), so a
    /// request it parses keeps special tokens in its output unless it asks otherwise
    /// (`skip_special_tokens`), as vLLM's `adjust_request` does for that parser.
    public static func readsSpecialTokens(_ name: String) -> Bool {
        name == "mistral"
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// The length of the longest suffix that is a proper prefix of `tag` (ASCII): text a
    /// stream holds back because the next piece may complete the tag.
    func partialSuffix(of tag: String) -> Int {
        let t = Array(utf8.suffix(tag.utf8.count - 1))
        let g = Array(tag.utf8)
        var n = t.count
        while n > 0 {
            if t.suffix(n).elementsEqual(g.prefix(n)) { return n }
            n -= 1
        }
        return 0
    }
}
