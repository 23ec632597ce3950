/// Reads grammars in the EBNF that vLLM's xgrammar backend takes (and llama.cpp's GBNF, its
/// near twin):
///
///     root  ::= "[" item ("," item)* "]"      # comments run to the end of the line
///     item  ::= "\"" [^"\\]* "\"" | [0-9]+ | obj{1,3}
///
/// Rules are `name ::= body`; a body is alternatives (`|`) of sequences of items: string
/// literals, character classes (`[a-z]`, `[^…]`), `.` (any character), rule names, groups, each
/// optionally repeated with `?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}` (xgrammar prints `{m, -1}` for
/// unbounded). A lookahead `(= …)` after a rule body is read and dropped (it prunes xgrammar's
/// search but never changes the language of its JSON grammars). Strings and classes are Unicode
/// code points (escapes `\n \r \t \0 \xHH \uHHHH \UHHHHHHHH`, or any escaped punctuation),
/// matched as their UTF-8 bytes.
public struct EBNFParser {
    private let text: [UInt8]
    private var offset = 0
    private var grammar = Grammar()
    private var defined: Set<String> = []
    private var used: [String: Int] = [:]

    public static func parse(_ source: String) throws -> Grammar {
        var parser = EBNFParser(text: Array(source.utf8))
        return try parser.run()
    }

    private init(text: [UInt8]) {
        self.text = text
    }

    private mutating func run() throws -> Grammar {
        skipSpace()
        while offset < text.count {
            let nameOffset = offset
            let name = try identifier()
            skipSpace()
            try expect("::=")
            if !defined.insert(name).inserted {
                offset = nameOffset
                throw GrammarError.duplicateRule(name)
            }
            let index = grammar.declare(name)
            let body = try alternatives()
            grammar.define(index, body)
            skipSpace()
            if peek("(=") { try lookahead() }
            skipSpace()
        }
        guard defined.contains("root") else { throw GrammarError.missingRoot }
        if let (name, _) = used.first(where: { !defined.contains($0.key) }).map({ ($0.key, $0.value) }) {
            throw GrammarError.undefinedRule(name)
        }
        return grammar
    }

    // MARK: Bodies

    private mutating func alternatives() throws -> Grammar.Expr {
        var items = [try sequence()]
        skipSpace()
        while peek("|") {
            offset += 1
            items.append(try sequence())
            skipSpace()
        }
        return items.count == 1 ? items[0] : .choice(items)
    }

    private mutating func sequence() throws -> Grammar.Expr {
        var items: [Grammar.Expr] = []
        while true {
            skipSpace()
            guard offset < text.count else { break }
            let c = text[offset]
            if c == UInt8(ascii: "|") || c == UInt8(ascii: ")") { break }
            if peek("(=") { break }
            if Self.isNameStart(c) && startsRule() { break }
            let item = try primary()
            items.append(try postfix(item))
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    /// Whether an identifier followed by `::=` starts here (the next rule).
    private func startsRule() -> Bool {
        var i = offset
        while i < text.count, Self.isNameChar(text[i]) { i += 1 }
        while i < text.count, Self.isSpace(text[i]) { i += 1 }
        return text.count - i >= 3 && text[i] == UInt8(ascii: ":") && text[i + 1] == UInt8(ascii: ":") && text[i + 2] == UInt8(ascii: "=")
    }

    private mutating func primary() throws -> Grammar.Expr {
        let c = text[offset]
        switch c {
        case UInt8(ascii: "\""):
            offset += 1
            var bytes: [UInt8] = []
            while true {
                guard offset < text.count else { throw error("unterminated string literal") }
                if text[offset] == UInt8(ascii: "\"") { offset += 1; break }
                if text[offset] == UInt8(ascii: "\n") { throw error("newline inside a string literal (write \\n)") }
                bytes += ScalarSet.encode(try character())
            }
            return bytes.isEmpty ? .empty : .bytes(bytes)
        case UInt8(ascii: "["):
            return try characterClass()
        case UInt8(ascii: "("):
            offset += 1
            let inner = try alternatives()
            skipSpace()
            try expect(")")
            return inner
        case UInt8(ascii: "."):
            offset += 1
            return ScalarSet.all.expr
        default:
            guard Self.isNameStart(c) else { throw error("unexpected '\(String(UnicodeScalar(c)))'") }
            let start = offset
            let name = try identifier()
            if used[name] == nil { used[name] = start }
            return .rule(grammar.declare(name))
        }
    }

    private mutating func postfix(_ item: Grammar.Expr) throws -> Grammar.Expr {
        var item = item
        while offset < text.count {
            switch text[offset] {
            case UInt8(ascii: "?"): offset += 1; item = .optional(item)
            case UInt8(ascii: "*"): offset += 1; item = .star(item)
            case UInt8(ascii: "+"): offset += 1; item = .plus(item)
            case UInt8(ascii: "{"):
                offset += 1
                skipSpace()
                let lower = try number()
                skipSpace()
                var upper: Int? = lower
                if peek(",") {
                    offset += 1
                    skipSpace()
                    if peek("}") {
                        upper = nil
                    } else if peek("-1") {
                        offset += 2
                        upper = nil
                    } else {
                        upper = try number()
                        if upper! < lower { throw error("repetition {\(lower),\(upper!)}: the maximum is below the minimum") }
                    }
                    skipSpace()
                }
                try expect("}")
                item = .repeat(item, min: lower, max: upper)
            default:
                return item
            }
        }
        return item
    }

    private mutating func characterClass() throws -> Grammar.Expr {
        offset += 1
        var negated = false
        if offset < text.count, text[offset] == UInt8(ascii: "^") { negated = true; offset += 1 }
        var set = ScalarSet()
        while true {
            guard offset < text.count else { throw error("unterminated character class") }
            if text[offset] == UInt8(ascii: "]") { offset += 1; break }
            let lower = try character()
            if offset + 1 < text.count, text[offset] == UInt8(ascii: "-"), text[offset + 1] != UInt8(ascii: "]") {
                offset += 1
                let upper = try character()
                guard lower <= upper else { throw error("character range out of order") }
                set.insert(lower...upper)
            } else {
                set.insert(lower)
            }
        }
        if negated { set = set.inverted }
        guard !set.isEmpty else { throw error("empty character class") }
        return set.expr
    }

    /// One character of a string or class: an escape or a UTF-8 encoded scalar.
    private mutating func character() throws -> UInt32 {
        let c = text[offset]
        if c != UInt8(ascii: "\\") {
            return try utf8Scalar()
        }
        offset += 1
        guard offset < text.count else { throw error("escape at the end of the input") }
        let e = text[offset]
        offset += 1
        switch e {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "0"): return 0
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "v"): return 0x0B
        case UInt8(ascii: "a"): return 0x07
        case UInt8(ascii: "e"): return 0x1B
        case UInt8(ascii: "x"): return try hex(digits: 2)
        case UInt8(ascii: "u"): return try hex(digits: 4)
        case UInt8(ascii: "U"): return try hex(digits: 8)
        default:
            guard e < 0x80, !Self.isNameStart(e), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(e) else {
                offset -= 1
                throw error("unknown escape '\\\(String(UnicodeScalar(e)))'")
            }
            return UInt32(e)
        }
    }

    private mutating func hex(digits: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard offset < text.count, let d = Self.hexValue(text[offset]) else { throw error("expected \(digits) hexadecimal digits") }
            value = value << 4 | d
            offset += 1
        }
        guard value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { throw error("escape names no Unicode scalar") }
        return value
    }

    private mutating func utf8Scalar() throws -> UInt32 {
        let lead = text[offset]
        let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
        guard length > 0, offset + length <= text.count else { throw error("invalid UTF-8") }
        var value = length == 1 ? UInt32(lead) : UInt32(lead) & (0x7F >> UInt32(length))
        for k in 1..<max(length, 1) {
            let b = text[offset + k]
            guard b & 0xC0 == 0x80 else { throw error("invalid UTF-8") }
            value = value << 6 | UInt32(b & 0x3F)
        }
        offset += length
        return value
    }

    private mutating func lookahead() throws {
        offset += 2
        _ = try alternatives()
        skipSpace()
        try expect(")")
    }

    // MARK: Lexing

    private mutating func identifier() throws -> String {
        let start = offset
        guard offset < text.count, Self.isNameStart(text[offset]) else { throw error("expected a rule name") }
        while offset < text.count, Self.isNameChar(text[offset]) { offset += 1 }
        return String(decoding: text[start..<offset], as: UTF8.self)
    }

    private mutating func number() throws -> Int {
        let start = offset
        while offset < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[offset]) { offset += 1 }
        guard offset > start, offset - start <= 9 else { throw error("expected a repetition count") }
        return Int(String(decoding: text[start..<offset], as: UTF8.self))!
    }

    private mutating func skipSpace() {
        while offset < text.count {
            if Self.isSpace(text[offset]) {
                offset += 1
            } else if text[offset] == UInt8(ascii: "#") {
                while offset < text.count, text[offset] != UInt8(ascii: "\n") { offset += 1 }
            } else {
                return
            }
        }
    }

    private func peek(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return text.count - offset >= b.count && Array(text[offset..<offset + b.count]) == b
    }

    private mutating func expect(_ s: String) throws {
        guard peek(s) else { throw error("expected '\(s)'") }
        offset += s.utf8.count
    }

    private func error(_ what: String) -> GrammarError {
        var line = 1, column = 1
        for b in text[..<min(offset, text.count)] {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return .syntax(what, line: line, column: column)
    }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
    }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) || c == UInt8(ascii: "_")
    }

    private static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "-")
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
