/// A context-free grammar over bytes: what every source (EBNF text, a regex, a JSON schema, a
/// list of choices) compiles to, and what `CompiledGrammar` turns into a matcher's program.
///
/// Rules are named expressions; rule 0 is the start (`root`). Terminals are byte sets, so
/// matching is over the UTF-8 bytes of the output, one token's bytes at a time.
public struct Grammar: Sendable, CustomStringConvertible {
    public indirect enum Expr: Sendable, Equatable {
        /// Matches nothing (the empty string).
        case empty
        /// One byte from the set.
        case byteSet(ByteSet)
        /// These bytes, in order (a literal).
        case bytes([UInt8])
        case sequence([Expr])
        case choice([Expr])
        /// Another rule, by index.
        case rule(Int)
        /// `min` to `max` (nil: unbounded) repetitions.
        case `repeat`(Expr, min: Int, max: Int?)

        public static func literal(_ text: String) -> Expr { .bytes(Array(text.utf8)) }
        public static func optional(_ e: Expr) -> Expr { .repeat(e, min: 0, max: 1) }
        public static func star(_ e: Expr) -> Expr { .repeat(e, min: 0, max: nil) }
        public static func plus(_ e: Expr) -> Expr { .repeat(e, min: 1, max: nil) }
    }

    public struct Rule: Sendable {
        public var name: String
        public var body: Expr
    }

    public private(set) var rules: [Rule] = []
    private var indexByName: [String: Int] = [:]

    /// A grammar whose start rule is `root`, defined later with `define`.
    public init() {
        _ = declare("root")
    }

    /// The index of rule `name`, declaring it (with an empty body) when new.
    public mutating func declare(_ name: String) -> Int {
        if let i = indexByName[name] { return i }
        rules.append(Rule(name: name, body: .empty))
        indexByName[name] = rules.count - 1
        return rules.count - 1
    }

    public func index(of name: String) -> Int? { indexByName[name] }

    public mutating func define(_ index: Int, _ body: Expr) {
        rules[index].body = body
    }

    /// Defines rule `name` (declaring it when new) and returns its index.
    @discardableResult
    public mutating func define(_ name: String, _ body: Expr) -> Int {
        let i = declare(name)
        rules[i].body = body
        return i
    }

    /// A fresh rule name starting with `stem` (for rules a compiler invents).
    public func freshName(_ stem: String) -> String {
        if indexByName[stem] == nil { return stem }
        var n = 1
        while indexByName["\(stem)_\(n)"] != nil { n += 1 }
        return "\(stem)_\(n)"
    }

    /// The grammar in EBNF (the syntax `EBNFParser` reads), for logs and errors.
    public var description: String {
        rules.map { "\($0.name) ::= \(render($0.body, top: true))" }.joined(separator: "\n")
    }

    private func render(_ e: Expr, top: Bool = false) -> String {
        switch e {
        case .empty: return "\"\""
        case .byteSet(let s): return Self.render(s)
        case .bytes(let b): return "\"" + b.map(Self.escape).joined() + "\""
        case .sequence(let items): return top ? items.map { render($0) }.joined(separator: " ") : "(" + items.map { render($0) }.joined(separator: " ") + ")"
        case .choice(let items): return top ? items.map { render($0) }.joined(separator: " | ") : "(" + items.map { render($0) }.joined(separator: " | ") + ")"
        case .rule(let i): return rules[i].name
        case .repeat(let inner, let min, let max):
            let s = render(inner)
            switch (min, max) {
            case (0, nil): return s + "*"
            case (1, nil): return s + "+"
            case (0, 1): return s + "?"
            case (let m, nil): return s + "{\(m),}"
            case (let m, let n?) where m == n: return s + "{\(m)}"
            case (let m, let n?): return s + "{\(m),\(n)}"
            }
        }
    }

    static func escape(_ b: UInt8) -> String {
        switch b {
        case UInt8(ascii: "\""): return "\\\""
        case UInt8(ascii: "\\"): return "\\\\"
        case UInt8(ascii: "\n"): return "\\n"
        case UInt8(ascii: "\t"): return "\\t"
        case UInt8(ascii: "\r"): return "\\r"
        case 0x20..<0x7F: return String(UnicodeScalar(b))
        default: return "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
        }
    }

    static func render(_ s: ByteSet) -> String {
        var parts = ""
        var b = 0
        while b < 256 {
            guard s.contains(UInt8(b)) else { b += 1; continue }
            var e = b
            while e + 1 < 256, s.contains(UInt8(e + 1)) { e += 1 }
            let lo = classEscape(UInt8(b))
            parts += e == b ? lo : (e == b + 1 ? lo + classEscape(UInt8(e)) : lo + "-" + classEscape(UInt8(e)))
            b = e + 1
        }
        return "[" + parts + "]"
    }

    private static func classEscape(_ b: UInt8) -> String {
        switch b {
        case UInt8(ascii: "]"), UInt8(ascii: "-"), UInt8(ascii: "^"), UInt8(ascii: "\\"): return "\\" + String(UnicodeScalar(b))
        case 0x21..<0x7F: return String(UnicodeScalar(b))
        default: return "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension Grammar {
    /// Exactly one of `options`, as vLLM's `choice` structured output (the text itself, no
    /// quotes around it).
    public static func choices(_ options: [String]) throws -> Grammar {
        guard !options.isEmpty else { throw GrammarError.schema("choice must list at least one string", path: "") }
        var grammar = Grammar()
        grammar.define("root", .choice(options.map { .literal($0) }))
        return grammar
    }
}
