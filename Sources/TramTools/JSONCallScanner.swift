import TramJSON

/// Reads one call written as a JSON object — `{"name": "f", "arguments": {...}}` (Hermes; the
/// arguments key may also be `parameters`, as in vLLM's `required` schema and Llama 3's format)
/// — from text that may still be growing. Given the text so far, it says the name once its
/// string is complete, and how much of the arguments value has been written: the value's text
/// up to the end of the input (everything after the value's start belongs to it until it
/// closes), or all of it once closed.
struct JSONCallScanner {
    struct Reading {
        var name: String?
        /// The arguments' text so far, and whether the value is complete.
        var arguments: Substring?
        var argumentsComplete = false
        /// The object is complete; where it ends in the input.
        var end: String.Index?
        /// The text cannot be such an object.
        var invalid = false
    }

    static let argumentKeys: Set<String> = ["arguments", "parameters"]

    static func read(_ text: Substring) -> Reading {
        var r = Reading()
        var i = text.startIndex
        func skipSpace() { while i < text.endIndex, text[i].isWhitespace { i = text.index(after: i) } }
        skipSpace()
        guard i < text.endIndex else { return r }
        guard text[i] == "{" else { r.invalid = true; return r }
        i = text.index(after: i)
        while true {
            skipSpace()
            guard i < text.endIndex else { return r }
            if text[i] == "}" {
                r.end = text.index(after: i)
                return r
            }
            if text[i] == "," { i = text.index(after: i); skipSpace() }
            guard i < text.endIndex else { return r }
            guard text[i] == "\"" else { r.invalid = true; return r }
            guard let keyEnd = stringEnd(text, from: i) else { return r }
            guard let key = string(text[i..<keyEnd]) else { r.invalid = true; return r }
            i = keyEnd
            skipSpace()
            guard i < text.endIndex else { return r }
            guard text[i] == ":" else { r.invalid = true; return r }
            i = text.index(after: i)
            skipSpace()
            guard i < text.endIndex else { return r }
            let valueStart = i
            let valueEnd = Self.valueEnd(text, from: i)
            if key == "name" {
                guard text[i] == "\"" else { r.invalid = true; return r }
                guard let end = valueEnd else { return r }
                guard let name = string(text[i..<end]) else { r.invalid = true; return r }
                r.name = name
            } else if argumentKeys.contains(key) {
                r.arguments = text[valueStart..<(valueEnd ?? text.endIndex)]
                r.argumentsComplete = valueEnd != nil
            }
            guard let end = valueEnd else { return r }
            i = end
        }
    }

    /// The index after the JSON string starting at `start` (a `"`), or nil if it is unfinished.
    static func stringEnd(_ text: Substring, from start: String.Index) -> String.Index? {
        var i = text.index(after: start)
        var escaped = false
        while i < text.endIndex {
            let c = text[i]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { return text.index(after: i) }
            i = text.index(after: i)
        }
        return nil
    }

    /// The index after the JSON value starting at `start`, or nil if it is unfinished. Scalars
    /// other than strings end at the first delimiter (so an unterminated one is unfinished).
    static func valueEnd(_ text: Substring, from start: String.Index) -> String.Index? {
        var i = start
        var depth = 0
        while i < text.endIndex {
            let c = text[i]
            switch c {
            case "\"":
                guard let end = stringEnd(text, from: i) else { return nil }
                if depth == 0 { return end }
                i = end
                continue
            case "{", "[": depth += 1
            case "}", "]":
                if depth == 0 { return i }
                depth -= 1
                if depth == 0 { return text.index(after: i) }
            case ",", " ", "\n", "\t", "\r":
                if depth == 0 { return i }
            default: break
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// The value of the JSON string literal `literal` (quotes included), read by TramJSON.
    static func string(_ literal: Substring) -> String? {
        (try? JSONParser.parse(Array(literal.utf8)))?.stringValue
    }
}

/// Streams one call written as a JSON object (see `JSONCallScanner`): re-reads the call's text
/// as it grows and reports the name once, then each new piece of the arguments.
struct JSONCallStream {
    private(set) var text = ""
    private(set) var started = false
    private var sentArguments = 0

    /// The events for call `index` now that its text so far is `text`.
    mutating func update(_ text: String, index: Int) -> (events: [ToolCallEvent], reading: JSONCallScanner.Reading) {
        self.text = text
        let r = JSONCallScanner.read(Substring(text))
        var events: [ToolCallEvent] = []
        if !started, let name = r.name {
            started = true
            events.append(.start(index: index, name: name))
        }
        if started, let arguments = r.arguments, arguments.count > sentArguments {
            events.append(.arguments(index: index, String(arguments.dropFirst(sentArguments))))
            sentArguments = arguments.count
        }
        return (events, r)
    }
}
