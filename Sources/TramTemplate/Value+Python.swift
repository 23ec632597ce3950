/// How Python prints values, since a template's output is Python's `str()` of each value:
/// `{{ true }}` is `True`, `{{ none }}` is `None`, `{{ ['a', 1] }}` is `['a', 1]`.
extension Value {
    /// Python `str(value)`; undefined prints as nothing.
    var pythonString: String {
        switch self {
        case .undefined: ""
        case let .string(s): s
        default: pythonRepr
        }
    }

    /// Python `repr(value)`, used for items inside lists and dicts.
    var pythonRepr: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case let .bool(b): b ? "True" : "False"
        case let .int(i): String(i)
        case let .double(d): Value.pythonFloat(d)
        case let .string(s): Value.pythonQuoted(s)
        case let .array(a): "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case let .object(o):
            "{" + o.pairs.map { Value.pythonQuoted($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        case let .callable(c):
            switch c.kind {
            case let .macro(m): "<Macro '\(m.name)'>"
            case let .builtin(name): "<built-in function \(name)>"
            }
        }
    }

    /// Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16
    /// (`1e-05`, `1e+16`), otherwise positional with at least one decimal (`100.0`).
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is also shortest round-trip; take its digits and exponent.
        var text = "\(d.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0])
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        // Value = 0.digits × 10^(pointPos); normalise away leading zeros.
        var pointPos = intPart.count + exponent
        while digits.hasPrefix("0"), digits.count > 1 {
            digits.removeFirst()
            pointPos -= 1
        }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        let decimalExponent = pointPos - 1  // value = d.ddd × 10^decimalExponent
        let sign = d < 0 ? "-" : ""
        if decimalExponent < -4 || decimalExponent >= 16 {
            var mantissa = String(digits.first!)
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let expSign = decimalExponent < 0 ? "-" : "+"
            let expDigits = String(abs(decimalExponent))
            return sign + mantissa + "e" + expSign + (expDigits.count < 2 ? "0" + expDigits : expDigits)
        }
        if pointPos <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPos) + digits
        }
        if digits.count <= pointPos {
            return sign + digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPos)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// Python `repr(str)`: single quotes unless the text has `'` and no `"`.
    static func pythonQuoted(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
