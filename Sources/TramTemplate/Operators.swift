internal import Foundation

/// Python's arithmetic and comparison rules, as jinja2 applies them to values.
enum Operators {
    static func binary(_ op: BinaryOperator, _ l: Value, _ r: Value) throws(TemplateError) -> Value {
        if op == .concat { return .string(l.pythonString + r.pythonString) }
        if l.isUndefined || r.isUndefined {
            throw .render("unsupported operand type(s) for \(op.rawValue): '\(l.typeName)' and '\(r.typeName)' (a value is undefined)")
        }
        switch (op, l, r) {
        case let (.add, .string(a), .string(b)): return .string(a + b)
        case let (.add, .array(a), .array(b)): return .array(a + b)
        case let (.multiply, .string(s), n), let (.multiply, n, .string(s)):
            guard case let .int(count)? = n.numeric, !(n.isDouble) else { break }
            try checkRepeatSize(s.utf8.count, count)
            return .string(String(repeating: s, count: max(0, count)))
        case let (.multiply, .array(items), n), let (.multiply, n, .array(items)):
            guard case let .int(count)? = n.numeric, !(n.isDouble) else { break }
            try checkRepeatSize(items.count, count)
            return .array(Array([[Value]](repeating: items, count: max(0, count)).joined()))
        default: break
        }
        guard let a = l.numeric, let b = r.numeric else {
            throw .render("unsupported operand type(s) for \(op.rawValue): '\(l.typeName)' and '\(r.typeName)'")
        }
        if case let .int(x) = a, case let .int(y) = b {
            return try integer(op, x, y)
        }
        let x = a.asDouble, y = b.asDouble
        switch op {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide:
            guard y != 0 else { throw .render("division by zero") }
            return .double(x / y)
        case .floorDivide:
            guard y != 0 else { throw .render("float floor division by zero") }
            return .double((x / y).rounded(.down))
        case .modulo:
            guard y != 0 else { throw .render("float modulo") }
            let m = x.truncatingRemainder(dividingBy: y)
            return .double(m != 0 && (m < 0) != (y < 0) ? m + y : m)
        case .power: return .double(Foundation.pow(x, y))
        case .concat: return .string(l.pythonString + r.pythonString)
        }
    }

    /// `'x' * 10**12` would exhaust memory; a chat prompt never needs more than this.
    private static func checkRepeatSize(_ unit: Int, _ count: Int) throws(TemplateError) {
        let (total, overflow) = unit.multipliedReportingOverflow(by: max(0, count))
        if overflow || total > 100_000_000 { throw .render("repetition result too large") }
    }

    private static func integer(_ op: BinaryOperator, _ x: Int, _ y: Int) throws(TemplateError) -> Value {
        func checked(_ result: (Int, Bool)) throws(TemplateError) -> Value {
            guard !result.1 else { throw .render("integer overflow") }
            return .int(result.0)
        }
        switch op {
        case .add: return try checked(x.addingReportingOverflow(y))
        case .subtract: return try checked(x.subtractingReportingOverflow(y))
        case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
        case .divide:
            guard y != 0 else { throw .render("division by zero") }
            return .double(Double(x) / Double(y))
        case .floorDivide, .modulo:
            guard y != 0 else { throw .render("integer division or modulo by zero") }
            guard !(x == Int.min && y == -1) else { throw .render("integer overflow") }
            var q = x / y
            var m = x % y
            // Python rounds toward negative infinity; the remainder takes the divisor's sign.
            if m != 0 && (m < 0) != (y < 0) {
                q -= 1
                m += y
            }
            return .int(op == .floorDivide ? q : m)
        case .power:
            if y < 0 { return .double(Foundation.pow(Double(x), Double(y))) }
            var result = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).intValue }
                e >>= 1
                if e > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).intValue }
            }
            return .int(result)
        case .concat: return .string(String(x) + String(y))
        }
    }

    static func compare(_ op: CompareOperator, _ l: Value, _ r: Value) throws(TemplateError) -> Bool {
        switch op {
        case .equal: return l == r
        case .notEqual: return l != r
        case .in: return try contains(r, l)
        case .notIn: return try !contains(r, l)
        case .less: return try order(l, r, op) < 0
        case .lessEqual: return try order(l, r, op) <= 0
        case .greater: return try order(l, r, op) > 0
        case .greaterEqual: return try order(l, r, op) >= 0
        }
    }

    /// Python `needle in haystack`.
    static func contains(_ haystack: Value, _ needle: Value) throws(TemplateError) -> Bool {
        switch haystack {
        case let .string(s):
            guard case let .string(n) = needle else { throw .render("'in <string>' requires string as left operand, not \(needle.typeName)") }
            return n.isEmpty || s.contains(n)
        case let .array(items): return items.contains(needle)
        case let .object(object):
            guard case let .string(key) = needle else { return false }
            return object[key] != nil
        case .undefined: return false
        default: throw .render("argument of type '\(haystack.typeName)' is not iterable")
        }
    }

    /// Python ordering: numbers with numbers, strings by code point, lists lexicographically.
    static func order(_ l: Value, _ r: Value, _ op: CompareOperator) throws(TemplateError) -> Int {
        if let a = l.numeric, let b = r.numeric {
            if case let .int(x) = a, case let .int(y) = b { return x < y ? -1 : (x == y ? 0 : 1) }
            let x = a.asDouble, y = b.asDouble
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        switch (l, r) {
        case let (.string(a), .string(b)):
            let x = Array(a.unicodeScalars.map(\.value)), y = Array(b.unicodeScalars.map(\.value))
            return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
        case let (.array(a), .array(b)):
            for (x, y) in zip(a, b) where x != y { return try order(x, y, op) }
            return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
        default:
            throw .render("'\(op.rawValue)' not supported between instances of '\(l.typeName)' and '\(r.typeName)'")
        }
    }
}

extension Value {
    var isDouble: Bool {
        if case .double = self { true } else { false }
    }

    var intValue: Int {
        if case let .int(i) = self { i } else { 0 }
    }
}
