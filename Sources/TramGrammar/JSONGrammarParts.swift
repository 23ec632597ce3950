/// JSON pointers in schema paths (values are written by `JSONWriter`).
enum JSONText {
    /// A property name as a JSON-pointer token, for error paths.
    static func pointerEscape(_ name: String) -> String {
        var out = ""
        for c in name {
            switch c {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(c)
            }
        }
        return out
    }

    /// A JSON-pointer token's name (`~1` is `/`, `~0` is `~`).
    static func pointerUnescape(_ token: Substring) -> String {
        var out = ""
        var tilde = false
        for c in token {
            if tilde {
                out += c == "1" ? "/" : c == "0" ? "~" : "~" + String(c)
                tilde = false
            } else if c == "~" {
                tilde = true
            } else {
                out.append(c)
            }
        }
        return tilde ? out + "~" : out
    }
}

/// Characters of a JSON string value as the grammar of their encoding inside the quotes.
enum JSONStringEncoding {
    /// Characters written as themselves: U+0020 and above except `"` and `\`.
    static let raw = ScalarSet([0x20...0x21, 0x23...0x5B, 0x5D...0xD7FF, 0xE000...0x10FFFF])

    private static let hexDigit: Grammar.Expr = {
        var s = ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))
        s.insert(contentsOf: UInt8(ascii: "a")...UInt8(ascii: "f"))
        s.insert(contentsOf: UInt8(ascii: "A")...UInt8(ascii: "F"))
        return .byteSet(s)
    }()

    /// Any one character of a string: raw, or an escape `\" \\ \/ \b \f \n \r \t \uXXXX`.
    static let anyCharacter: Grammar.Expr = {
        var simple = ByteSet()
        for c in "\"\\/bfnrt".utf8 { simple.insert(c) }
        return .choice([
            raw.expr,
            .sequence([.literal("\\"), .choice([.byteSet(simple), .sequence([.literal("u"), .repeat(hexDigit, min: 4, max: 4)])])]),
        ])
    }()

    private static let shortEscapes: [UInt32: String] = [0x22: "\\\"", 0x5C: "\\\\", 0x2F: "\\/", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"]

    /// One character of `set`, encoded: the raw ones as themselves, `"`, `\` and control
    /// characters as escapes (and `/` also as `\/`).
    static func expr(for set: ScalarSet) -> Grammar.Expr {
        if set == ScalarSet.all { return anyCharacter }
        var alternatives: [Grammar.Expr] = []
        var rawPart = ScalarSet()
        for r in set.ranges {
            let lo = max(r.lowerBound, 0x20)
            if lo <= r.upperBound { rawPart.insert(lo...r.upperBound) }
        }
        rawPart = rawPart.subtracting(0x22...0x22).subtracting(0x5C...0x5C)
        if !rawPart.isEmpty { alternatives.append(rawPart.expr) }
        for c in [UInt32(0x22), 0x5C, 0x2F] + Array(0..<0x20) where set.contains(c) {
            if let short = shortEscapes[c] { alternatives.append(.literal(short)) }
            if c < 0x20 {
                let high = UInt8(ascii: c < 0x10 ? "0" : "1")
                let low = String(c & 0xF, radix: 16)
                var digit = ByteSet()
                for ch in (low + low.uppercased()).utf8 { digit.insert(ch) }
                alternatives.append(.sequence([.literal("\\u00"), .bytes([high]), .byteSet(digit)]))
            }
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }
}

/// Regexes for JSON Schema's `format` values Tram enforces (the value inside the quotes).
enum JSONFormats {
    static let date = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    static let time = "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    static let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    static let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"

    static let regex: [String: String] = [
        "date": date,
        "time": time,
        "date-time": date + "T" + time,
        "duration": "P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]+)?S)?)?",
        "email": "[a-zA-Z0-9._%+-]+@" + label + "(\\." + label + ")+",
        "hostname": label + "(\\." + label + ")*",
        "ipv4": "(" + octet + "\\.){3}" + octet,
        "uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "uri": "[a-zA-Z][a-zA-Z0-9+.-]*:[^ \"<>\\\\^`{|}\\x00-\\x1f]*",
    ]
}

/// Decimal integers in a range, as JSON writes them (no leading zeros, no `+`, no `-0`).
enum IntegerRange {
    static let digit = Grammar.Expr.byteSet(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))
    static let nonZero = Grammar.Expr.byteSet(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9")))

    static func expr(lower: Int?, upper: Int?) -> Grammar.Expr {
        var alternatives: [Grammar.Expr] = []
        if upper.map({ $0 >= 0 }) ?? true {
            alternatives.append(natural(from: max(lower ?? 0, 0), to: upper))
        }
        // Negative values in [lower, min(upper, -1)]: "-" and their magnitudes.
        let highest = min(upper ?? -1, -1)
        if lower.map({ $0 <= highest }) ?? true {
            alternatives.append(.sequence([.literal("-"), natural(from: -highest, to: lower.map { -$0 })]))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// The naturals in [a, b] (b nil: unbounded), a ≥ 0.
    static func natural(from a: Int, to b: Int?) -> Grammar.Expr {
        var alternatives: [Grammar.Expr] = []
        let lowLength = String(a).count
        let highLength = b.map { String($0).count }
        var length = lowLength
        while highLength.map({ length <= $0 }) ?? (length == lowLength) {
            let floor = length == 1 ? 0 : power(length - 1)
            let ceiling = power(length) - 1
            let lo = max(a, floor), hi = min(b ?? ceiling, ceiling)
            if lo <= hi { alternatives.append(sameLength(Array(String(lo).utf8), Array(String(hi).utf8))) }
            length += 1
        }
        if b == nil {
            // Every longer number.
            alternatives.append(.sequence([nonZero, .repeat(digit, min: lowLength, max: nil)]))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    private static func power(_ n: Int) -> Int {
        var p = 1
        for _ in 0..<n { p = p.multipliedReportingOverflow(by: 10).overflow ? Int.max / 10 : p * 10 }
        return p
    }

    /// Digit strings of equal length between `lo` and `hi` (inclusive).
    private static func sameLength(_ lo: [UInt8], _ hi: [UInt8]) -> Grammar.Expr {
        if lo.isEmpty { return .empty }
        if lo == hi { return .bytes(lo) }
        let rest = lo.count - 1
        if lo[0] == hi[0] { return .sequence([.bytes([lo[0]]), sameLength(Array(lo.dropFirst()), Array(hi.dropFirst()))]) }
        let loRestMin = lo.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") }
        let hiRestMax = hi.dropFirst().allSatisfy { $0 == UInt8(ascii: "9") }
        var alternatives: [Grammar.Expr] = []
        var middleLow = lo[0] + 1, middleHigh = hi[0] - 1
        if loRestMin { middleLow = lo[0] } else {
            alternatives.append(.sequence([.bytes([lo[0]]), sameLength(Array(lo.dropFirst()), [UInt8](repeating: UInt8(ascii: "9"), count: rest))]))
        }
        if hiRestMax { middleHigh = hi[0] }
        if middleLow <= middleHigh {
            alternatives.append(.sequence([.byteSet(ByteSet(middleLow...middleHigh)), .repeat(digit, min: rest, max: rest)]))
        }
        if !hiRestMax {
            alternatives.append(.sequence([.bytes([hi[0]]), sameLength([UInt8](repeating: UInt8(ascii: "0"), count: rest), Array(hi.dropFirst()))]))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }
}

/// JSON numbers in a range with integer bounds (each inclusive or exclusive, or absent), written
/// without an exponent: an integer part, then an optional fraction. Every number the grammar
/// allows is in the range; numbers in the range written with an exponent are not allowed (the
/// model writes `1500`, not `1.5e3`).
enum NumberRange {
    struct Bound {
        var value: Int
        var inclusive: Bool
    }

    static let digits = Grammar.Expr.plus(IntegerRange.digit)
    /// Any fraction, or none.
    static let anyFraction = Grammar.Expr.optional(.sequence([.literal("."), digits]))
    /// A fraction of zeros only, or none (the integer exactly).
    static let zeroFraction = Grammar.Expr.optional(.sequence([.literal("."), .plus(.literal("0"))]))
    /// A fraction with a nonzero digit (strictly above the integer).
    static let nonzeroFraction = Grammar.Expr.sequence([
        .literal("."), .star(IntegerRange.digit), .byteSet(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9"))), .star(IntegerRange.digit),
    ])

    static func expr(lower: Bound?, upper: Bound?) -> Grammar.Expr? {
        var alternatives: [Grammar.Expr] = []
        // Non-negative values: magnitudes in [max(lower, 0), upper].
        if upper.map({ $0.value > 0 || ($0.value == 0 && $0.inclusive) }) ?? true {
            let low = lower.map { $0.value >= 0 ? $0 : Bound(value: 0, inclusive: true) } ?? Bound(value: 0, inclusive: true)
            if let e = magnitudes(low, upper) { alternatives.append(e) }
        }
        // Negative values: "-" and magnitudes in (0 or -upper, -lower].
        if lower.map({ $0.value < 0 }) ?? true {
            let low = upper.map { $0.value < 0 ? Bound(value: -$0.value, inclusive: $0.inclusive) : Bound(value: 0, inclusive: false) }
                ?? Bound(value: 0, inclusive: false)
            let high = lower.map { Bound(value: -$0.value, inclusive: $0.inclusive) }
            if let e = magnitudes(low, high) { alternatives.append(.sequence([.literal("-"), e])) }
        }
        if alternatives.isEmpty { return nil }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// Unsigned decimals m with low ≤ m ≤ high (each end inclusive or not; high nil: none).
    private static func magnitudes(_ low: Bound, _ high: Bound?) -> Grammar.Expr? {
        let c = low.value
        var alternatives: [Grammar.Expr] = []
        if let high {
            let d = high.value
            if d < c { return nil }
            if c == d { return low.inclusive && high.inclusive ? .sequence([.literal(String(c)), zeroFraction]) : nil }
            if c + 1 <= d - 1 { alternatives.append(.sequence([IntegerRange.natural(from: c + 1, to: d - 1), anyFraction])) }
            if high.inclusive { alternatives.append(.sequence([.literal(String(d)), zeroFraction])) }
        } else {
            alternatives.append(.sequence([IntegerRange.natural(from: c + 1, to: nil), anyFraction]))
        }
        alternatives.append(.sequence([.literal(String(c)), low.inclusive ? anyFraction : nonzeroFraction]))
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }
}
