/// Regular expressions → grammar, as vLLM's `regex` structured output takes them (xgrammar's
/// `compile_regex`): the whole output must match (a full match; `^` at the start and `$` at the
/// end are implied and may be written). Supported: literals, `.` (any character, newline
/// included), classes `[a-z]` `[^…]`, `\d \w \s` and their negations (ASCII, as xgrammar),
/// escapes `\n \r \t \f \v \0 \xHH \uHHHH \u{…}` and escaped punctuation, groups `(…)` `(?:…)`
/// `(?<name>…)` `(?P<name>…)`, alternation, and the quantifiers `? * + {m} {m,} {m,n}`
/// (lazy and possessive suffixes accepted: they change which match a search finds, not the
/// language). Lookarounds, backreferences, word boundaries and anchors in the middle are
/// refused with an error naming them.
///
/// With `jsonString`, the regex describes a JSON string's *value* and the grammar its
/// encoding: `"` and `\` and control characters are matched as their JSON escapes
/// (JSON Schema's `pattern`).
public struct RegexCompiler {
    private let scalars: [Unicode.Scalar]
    private var offset = 0
    private let jsonString: Bool

    public static func compile(_ pattern: String, jsonString: Bool = false) throws -> Grammar {
        var grammar = Grammar()
        grammar.define("root", try expression(pattern, jsonString: jsonString))
        return grammar
    }

    /// The regex as one expression, for embedding in a larger grammar (a schema's `pattern`).
    public static func expression(_ pattern: String, jsonString: Bool = false) throws -> Grammar.Expr {
        var compiler = RegexCompiler(scalars: Array(pattern.unicodeScalars), jsonString: jsonString)
        let e = try compiler.alternation(topLevel: true)
        if compiler.offset < compiler.scalars.count { throw compiler.error("unmatched ')'") }
        return e
    }

    private init(scalars: [Unicode.Scalar], jsonString: Bool) {
        self.scalars = scalars
        self.jsonString = jsonString
    }

    private var atEnd: Bool { offset >= scalars.count }
    private func peek(_ c: Character) -> Bool { !atEnd && Character(scalars[offset]) == c }

    private mutating func alternation(topLevel: Bool) throws -> Grammar.Expr {
        var items = [try sequence(topLevel: topLevel)]
        while peek("|") {
            offset += 1
            items.append(try sequence(topLevel: topLevel))
        }
        return items.count == 1 ? items[0] : .choice(items)
    }

    private mutating func sequence(topLevel: Bool) throws -> Grammar.Expr {
        var items: [Grammar.Expr] = []
        var ended = false
        while !atEnd, !peek("|"), !peek(")") {
            if ended { throw error("'$' before the end of the pattern") }
            if peek("^") {
                guard topLevel, items.isEmpty else { throw error("'^' anchors only the start of the pattern") }
                offset += 1
                continue
            }
            if peek("$") {
                offset += 1
                guard topLevel else { throw error("'$' anchors only the end of the pattern") }
                ended = true
                continue
            }
            let atom = try self.atom()
            items.append(try quantified(atom))
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func quantified(_ atom: Grammar.Expr) throws -> Grammar.Expr {
        var e = atom
        guard !atEnd else { return e }
        switch scalars[offset] {
        case "?": offset += 1; e = .optional(atom)
        case "*": offset += 1; e = .star(atom)
        case "+": offset += 1; e = .plus(atom)
        case "{":
            guard let (lower, upper, length) = bounds(at: offset) else { return e }
            offset += length
            e = .repeat(atom, min: lower, max: upper)
        default: return e
        }
        if peek("?") || peek("+") { offset += 1 }
        if !atEnd, "?*+".unicodeScalars.contains(scalars[offset]) { throw error("a quantifier cannot follow a quantifier") }
        return e
    }

    /// `{m}`, `{m,}`, `{m,n}` at `i`: (m, n or nil, length); nil when the brace is a literal.
    private func bounds(at i: Int) -> (Int, Int?, Int)? {
        var j = i + 1
        func digits() -> Int? {
            let start = j
            while j < scalars.count, ("0"..."9").contains(scalars[j]) { j += 1 }
            guard j > start, j - start <= 9 else { return nil }
            return Int(String(String.UnicodeScalarView(scalars[start..<j])))
        }
        guard let lower = digits() else { return nil }
        var upper: Int? = lower
        if j < scalars.count, scalars[j] == "," {
            j += 1
            upper = j < scalars.count && scalars[j] == "}" ? nil : digits()
            if upper == nil, !(j < scalars.count && scalars[j] == "}") { return nil }
        }
        guard j < scalars.count, scalars[j] == "}" else { return nil }
        if let upper, upper < lower { return nil }
        return (lower, upper, j + 1 - i)
    }

    private mutating func atom() throws -> Grammar.Expr {
        let c = scalars[offset]
        switch c {
        case "(":
            offset += 1
            if peek("?") {
                offset += 1
                if peek(":") {
                    offset += 1
                } else if peek("P") || peek("<") {
                    if peek("P") { offset += 1 }
                    guard peek("<") else { throw error("unsupported group syntax") }
                    if offset + 1 < scalars.count, scalars[offset + 1] == "=" || scalars[offset + 1] == "!" {
                        throw error("lookbehind is not supported")
                    }
                    while !atEnd, !peek(">") { offset += 1 }
                    guard peek(">") else { throw error("unterminated group name") }
                    offset += 1
                } else if peek("=") || peek("!") {
                    throw error("lookahead is not supported")
                } else {
                    throw error("unsupported group flags")
                }
            }
            let inner = try alternation(topLevel: false)
            guard peek(")") else { throw error("missing ')'") }
            offset += 1
            return inner
        case "[":
            return try characters(classSet())
        case ".":
            offset += 1
            return try characters(ScalarSet.all)
        case "*", "+", "?":
            throw error("nothing to repeat")
        case "{":
            if bounds(at: offset) != nil { throw error("nothing to repeat") }
            offset += 1
            return try characters(ScalarSet([UInt32(c.value)...UInt32(c.value)]))
        case "\\":
            return try characters(escape(inClass: false))
        default:
            offset += 1
            return try characters(ScalarSet([c.value...c.value]))
        }
    }

    private mutating func classSet() throws -> ScalarSet {
        offset += 1
        var negated = false
        if peek("^") { negated = true; offset += 1 }
        var set = ScalarSet()
        var first = true
        while true {
            guard !atEnd else { throw error("unterminated character class") }
            if peek("]") && !first { offset += 1; break }
            first = false
            let lower = try classMember()
            if peek("-"), offset + 1 < scalars.count, scalars[offset + 1] != "]" {
                offset += 1
                let upper = try classMember()
                guard let lo = lower.single, let hi = upper.single else { throw error("a class escape cannot bound a range") }
                guard lo <= hi else { throw error("character range out of order") }
                set.insert(lo...hi)
            } else {
                set.formUnion(lower)
            }
        }
        return negated ? set.inverted : set
    }

    private mutating func classMember() throws -> ScalarSet {
        if peek("\\") { return try escape(inClass: true) }
        if peek("["), offset + 1 < scalars.count, scalars[offset + 1] == ":" {
            throw error("POSIX classes such as [:alpha:] are not supported")
        }
        let c = scalars[offset]
        offset += 1
        return ScalarSet([c.value...c.value])
    }

    private static let digit = ScalarSet([0x30...0x39])
    private static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    private static let space = ScalarSet([0x09...0x0D, 0x20...0x20])

    private mutating func escape(inClass: Bool) throws -> ScalarSet {
        offset += 1
        guard !atEnd else { throw error("escape at the end of the pattern") }
        let e = scalars[offset]
        offset += 1
        func one(_ v: UInt32) -> ScalarSet { ScalarSet([v...v]) }
        switch e {
        case "d": return Self.digit
        case "D": return Self.digit.inverted
        case "w": return Self.word
        case "W": return Self.word.inverted
        case "s": return Self.space
        case "S": return Self.space.inverted
        case "n": return one(0x0A)
        case "r": return one(0x0D)
        case "t": return one(0x09)
        case "f": return one(0x0C)
        case "v": return one(0x0B)
        case "0": return one(0)
        case "b":
            if inClass { return one(0x08) }
            throw error("word boundaries (\\b) are not supported")
        case "B", "A", "z", "Z", "G": throw error("the anchor \\\(e) is not supported")
        case "x": return one(try hex(count: 2))
        case "u":
            if peek("{") {
                offset += 1
                var v: UInt32 = 0, n = 0
                while !atEnd, !peek("}"), let d = Self.hexValue(scalars[offset]) { v = v << 4 | d; n += 1; offset += 1; if n > 6 { break } }
                guard peek("}"), n > 0 else { throw error("malformed \\u{…}") }
                offset += 1
                return one(try checked(v))
            }
            return one(try hex(count: 4))
        case "p", "P": throw error("Unicode properties (\\p{…}) are not supported")
        case "1"..."9": throw error("backreferences are not supported")
        default:
            if e.properties.isAlphabetic || ("0"..."9").contains(e) { throw error("unknown escape \\\(e)") }
            return one(e.value)
        }
    }

    private mutating func hex(count: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<count {
            guard !atEnd, let d = Self.hexValue(scalars[offset]) else { throw error("expected \(count) hexadecimal digits") }
            v = v << 4 | d
            offset += 1
        }
        return try checked(v)
    }

    private func checked(_ v: UInt32) throws -> UInt32 {
        guard v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v) else { throw error("escape names no Unicode scalar") }
        return v
    }

    private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": c.value - 0x30
        case "a"..."f": c.value - 0x61 + 10
        case "A"..."F": c.value - 0x41 + 10
        default: nil
        }
    }

    /// One character of `set`; as a JSON string's encoding when `jsonString`.
    private func characters(_ set: ScalarSet) throws -> Grammar.Expr {
        guard !set.isEmpty else { throw error("the class matches no character") }
        guard jsonString else { return set.expr }
        return JSONStringEncoding.expr(for: set)
    }

    private func error(_ what: String) -> GrammarError {
        .regex(what, offset: offset)
    }
}

extension ScalarSet {
    /// The one scalar of a one-scalar set.
    var single: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }
}
