import TramJSON

/// Pythonic calls (vLLM's `pythonic`: Llama 3.2 / 4, ToolACE): an output that begins with `[` is
/// a Python list of calls with keyword arguments, `[get_weather(city='Paris'), get_time()]`; each
/// call's arguments become a JSON object (Python strings, numbers, True/False/None, lists,
/// tuples and dicts written as JSON, with `json.dumps`'s `, ` and `: ` separators). Any other
/// output is content, as is an output that opens with `[` but whose first element is not a call.
/// Text after the list, or from where a later call stops being Python literals, is content.
public struct PythonicToolCallParser: ToolCallParser {
    private enum Mode { case undecided, content, calls }
    private var mode = Mode.undecided
    private var received = ""
    /// The output from its `[` on.
    private var text: [Character] = []
    /// Per call seen: how much of its arguments was sent.
    private var sent: [Int] = []

    public init() {}

    public mutating func feed(_ piece: String) -> [ToolCallEvent] {
        received += piece
        switch mode {
        case .content:
            return piece.isEmpty ? [] : [.content(piece)]
        case .undecided:
            let start = received.drop { $0.isWhitespace }
            guard let first = start.first else { return [] }
            guard first == "[" else {
                mode = .content
                return [.content(received)]
            }
            text = Array(start)
            mode = .calls
            return scan(final: false)
        case .calls:
            text += piece
            return scan(final: false)
        }
    }

    /// Re-reads the list so far and sends what became settled since the last time.
    private mutating func scan(final: Bool) -> [ToolCallEvent] {
        var reader = PythonCallReader(text, final: final)
        let outcome = reader.readList()
        if case .invalid = outcome, reader.calls.isEmpty {
            // Not a list of calls after all (no element got as far as `name(`): the whole output is text.
            mode = .content
            return [.content(received)]
        }
        var events: [ToolCallEvent] = []
        for (index, call) in reader.calls.enumerated() {
            if index == sent.count {
                events.append(.start(index: index, name: call.name))
                sent.append(0)
            }
            if call.arguments.count > sent[index] {
                events.append(.arguments(index: index, String(call.arguments.dropFirst(sent[index]))))
                sent[index] = call.arguments.count
            }
        }
        switch outcome {
        case .incomplete:
            break
        case .invalid(let at), .complete(let at):
            mode = .content
            let tail = String(text[at...])
            if case .complete = outcome, tail.allSatisfy(\.isWhitespace) { break }
            if !tail.isEmpty { events.append(.content(tail)) }
        }
        return events
    }

    public mutating func finish() -> [ToolCallEvent] {
        defer { mode = .content }
        switch mode {
        case .undecided: return received.isEmpty ? [] : [.content(received)]
        case .content: return []
        case .calls:
            // Cut short: the calls that got as far as `name(` keep what they have (a last number
            // or name ends with the text); if none did, the output is text.
            let events = scan(final: true)
            return mode == .content || !sent.isEmpty ? events : [.content(received)]
        }
    }
}

/// Reads `[name(key=value, ...), ...]` from text that may still be growing, writing each call's
/// arguments as JSON. Only settled text is written: a token (a number, True, a name) once a
/// delimiter follows it, a comma once the next element starts (so a trailing comma never shows),
/// a string's characters as they come (an escape once whole). So what it writes for some text is
/// a prefix of what it writes once more text arrives.
struct PythonCallReader {
    enum Outcome {
        /// The text so far is a prefix of a list of calls.
        case incomplete
        /// The list closed; the index after its `]`.
        case complete(Int)
        /// From this index the text is not what a list of calls can hold.
        case invalid(Int)
    }

    struct Call {
        var name: String
        var arguments = ""
    }

    private let c: [Character]
    /// The text is all there is: its end also ends a token.
    private let final: Bool
    private var i = 0
    /// Literals open around the one being read: deeper than TramJSON's parser allows is invalid,
    /// so a model's runaway nesting cannot exhaust the stack.
    private var depth = 0
    /// The elements read as far as `name(`.
    private(set) var calls: [Call] = []

    init(_ text: [Character], final: Bool = false) {
        c = text
        self.final = final
    }

    private enum Step: Error { case incomplete, invalid }

    private mutating func skipSpace() {
        while i < c.count, c[i].isWhitespace { i += 1 }
    }

    /// The next character after whitespace; throws `incomplete` at the end.
    private mutating func peek() throws(Step) -> Character {
        skipSpace()
        guard i < c.count else { throw .incomplete }
        return c[i]
    }

    mutating func readList() -> Outcome {
        do {
            guard try peek() == "[" else { return .invalid(i) }
            i += 1
            try commaSeparated(close: "]") { r, _ throws(Step) in try r.readCall() }
            return .complete(i)
        } catch .incomplete {
            return .incomplete
        } catch {
            return .invalid(min(i, c.count))
        }
    }

    private mutating func readCall() throws(Step) {
        let name = try identifier()
        guard try peek() == "(" else { throw .invalid }
        i += 1
        calls.append(Call(name: name, arguments: "{"))
        try commaSeparated(close: ")") { r, first throws(Step) in try r.keyword(first: first) }
        calls[calls.count - 1].arguments += "}"
    }

    /// `key=value` of the current call; its `, "key": ` is written once the value has begun.
    private mutating func keyword(first: Bool) throws(Step) {
        let key = try identifier()
        guard try peek() == "=" else { throw .invalid }
        i += 1
        _ = try peek() // the value has begun: the key is settled
        var out = calls[calls.count - 1].arguments
        out += (first ? "" : ", ") + Self.quoted(key) + ": "
        defer { calls[calls.count - 1].arguments = out }
        try value(&out)
    }

    /// Elements up to `close`, separated by commas (a trailing one allowed), each read by
    /// `element` (told whether it is the first); anything else between them is invalid.
    private mutating func commaSeparated(close: Character, _ element: (inout PythonCallReader, Bool) throws(Step) -> Void) throws(Step) {
        var first = true
        while true {
            if try peek() == close { i += 1; return }
            if !first {
                guard try peek() == "," else { throw .invalid }
                i += 1
                if try peek() == close { i += 1; return }
            }
            try element(&self, first)
            first = false
        }
    }

    /// A Python name; throws `incomplete` if the text ends inside it.
    private mutating func identifier() throws(Step) -> String {
        skipSpace()
        let start = i
        while i < c.count, c[i] == "_" || c[i].isLetter || (i > start && c[i].isNumber) { i += 1 }
        guard i < c.count else { throw .incomplete }
        guard i > start else { throw .invalid }
        return String(c[start..<i])
    }

    /// One Python literal, written as JSON into `out`.
    private mutating func value(_ out: inout String) throws(Step) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 512 else { throw .invalid }
        let ch = try peek()
        switch ch {
        case "'", "\"":
            try string(&out)
        case "[", "(":
            try sequence(&out, close: ch == "[" ? "]" : ")")
        case "{":
            try dictionary(&out)
        default:
            try token(&out)
        }
    }

    private mutating func sequence(_ out: inout String, close: Character) throws(Step) {
        i += 1
        out += "["
        try commaSeparated(close: close) { r, first throws(Step) in
            if !first { out += ", " }
            try r.value(&out)
        }
        out += "]"
    }

    private mutating func dictionary(_ out: inout String) throws(Step) {
        i += 1
        out += "{"
        try commaSeparated(close: "}") { r, first throws(Step) in
            if !first { out += ", " }
            let ch = try r.peek()
            guard ch == "'" || ch == "\"" else { throw .invalid } // JSON keys are strings
            try r.string(&out)
            guard try r.peek() == ":" else { throw .invalid }
            r.i += 1
            _ = try r.peek()
            out += ": "
            try r.value(&out)
        }
        out += "}"
    }

    /// A quoted Python string (single or double quotes, one line) as a JSON string.
    private mutating func string(_ out: inout String) throws(Step) {
        let quote = c[i]
        i += 1
        out += "\""
        while true {
            guard i < c.count else { throw .incomplete }
            let ch = c[i]
            if ch == quote { i += 1; out += "\""; return }
            if ch == "\n" { throw .invalid }
            if ch == "\\" {
                guard i + 1 < c.count else { throw .incomplete }
                let e = c[i + 1]
                switch e {
                case "n", "t", "r", "b", "f", "\\", "/": out += "\\" + String(e); i += 2
                case "\"": out += "\\\""; i += 2
                case "'": out += "'"; i += 2
                case "x", "u":
                    let digits = e == "x" ? 2 : 4
                    guard i + 2 + digits <= c.count else { throw .incomplete }
                    let hex = String(c[(i + 2)..<(i + 2 + digits)])
                    guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else { throw .invalid }
                    Self.escape(Character(scalar), into: &out)
                    i += 2 + digits
                default: // Python keeps an unknown escape as written
                    out += "\\\\"
                    i += 1
                }
                continue
            }
            Self.escape(ch, into: &out)
            i += 1
        }
    }

    /// True, False, None or a number, once a delimiter follows it.
    private mutating func token(_ out: inout String) throws(Step) {
        let start = i
        while i < c.count, c[i].isLetter || c[i].isNumber || c[i] == "." || c[i] == "_" || c[i] == "-" || c[i] == "+" { i += 1 }
        guard i < c.count || (final && i > start) else { throw .incomplete }
        let word = String(c[start..<i])
        switch word {
        case "True": out += "true"
        case "False": out += "false"
        case "None": out += "null"
        default:
            guard let json = Self.number(word) else { throw .invalid }
            out += json
        }
    }

    /// A Python int or float literal as JSON (`1.` → `1.0`, `.5` → `0.5`, `1_000` → `1000`).
    static func number(_ word: String) -> String? {
        var s = word.replacingUnderscores
        var sign = ""
        if s.hasPrefix("-") { sign = "-"; s.removeFirst() } else if s.hasPrefix("+") { s.removeFirst() }
        var mantissa = s, exponent = ""
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(s[..<e])
            exponent = String(s[s.index(after: e)...])
            var digits = exponent
            if digits.hasPrefix("-") || digits.hasPrefix("+") { digits.removeFirst() }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
            exponent = "e" + exponent
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        var whole = String(parts[0]), fraction = parts.count == 2 ? String(parts[1]) : nil
        guard !whole.isEmpty || !(fraction ?? "").isEmpty else { return nil }
        if whole.isEmpty { whole = "0" }
        if fraction == "" { fraction = "0" }
        // Python refuses leading zeros in ints ("012"); a float may have them ("01.5" = 1.5).
        if fraction == nil, exponent.isEmpty, whole.count > 1, whole.hasPrefix("0") { return nil }
        while whole.count > 1, whole.hasPrefix("0") { whole.removeFirst() }
        return sign + whole + (fraction.map { "." + $0 } ?? "") + exponent
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        JSONWriter.writeString(s, into: &out)
        return out
    }

    static func escape(_ ch: Character, into out: inout String) {
        JSONWriter.writeEscaped(String(ch), into: &out)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
