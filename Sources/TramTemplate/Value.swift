/// A value a template sees: what the caller passes in and what expressions produce.
///
/// It mirrors the Python objects jinja2 works on, so rendering follows Python's rules:
/// `.int` and `.double` are distinct (`1` prints `1`, `1.0` prints `1.0`), objects keep
/// insertion order like `dict`, and `.undefined` is jinja2's `Undefined` (prints as nothing,
/// is falsy, fails `is defined`).
public enum Value: Sendable, Equatable {
    /// A name or key that does not exist (jinja2 `Undefined`).
    case undefined
    /// Python `None`.
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case object(OrderedObject)
    /// A macro defined by the template or a built-in global such as `range`.
    case callable(Callable)

    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): true
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a == b
        case let (.callable(a), .callable(b)): a == b
        default:
            // Python: True == 1 == 1.0.
            if let a = lhs.numeric, let b = rhs.numeric { a.isEqual(to: b) } else { false }
        }
    }
}

/// A function value: a template macro or a global like `namespace`, `range`, `raise_exception`.
public struct Callable: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case macro(Macro)
        case builtin(String)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }
}

/// Numbers in Python's tower: bool ⊂ int ⊂ float.
enum Numeric {
    case int(Int)
    case double(Double)

    var asDouble: Double {
        switch self {
        case let .int(i): Double(i)
        case let .double(d): d
        }
    }

    func isEqual(to other: Numeric) -> Bool {
        switch (self, other) {
        case let (.int(a), .int(b)): a == b
        default: asDouble == other.asDouble
        }
    }
}

extension Value {
    var numeric: Numeric? {
        switch self {
        case let .bool(b): .int(b ? 1 : 0)
        case let .int(i): .int(i)
        case let .double(d): .double(d)
        default: nil
        }
    }

    /// jinja2 / Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case let .bool(b): b
        case let .int(i): i != 0
        case let .double(d): d != 0
        case let .string(s): !s.isEmpty
        case let .array(a): !a.isEmpty
        case let .object(o): !o.isEmpty
        case .callable: true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { true } else { false }
    }

    /// Python's type name, for error messages like jinja2's.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        case .callable: "function"
        }
    }
}
