/// jinja2's tests: `x is defined`, `x is string`, `n is divisibleby 3`, …
extension Interpreter {
    func applyTest(_ name: String, to value: Value, arguments args: CallArguments) throws(TemplateError) -> Bool {
        let other = args.positional.first ?? .undefined
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.numeric != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .object = value { return true } else { return false }
        case "callable": if case .callable = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .string, .array, .object, .undefined: return true
            default: return false
            }
        case "even", "odd", "divisibleby":
            guard case let .int(i)? = value.numeric else { throw .render("\(name) test needs an integer") }
            if name == "even" { return i % 2 == 0 }
            if name == "odd" { return i % 2 != 0 }
            guard case let .int(d)? = other.numeric, d != 0 else { throw .render("divisibleby needs a non-zero integer") }
            return i % d == 0
        case "eq", "equalto", "==": return value == other
        case "ne", "!=": return value != other
        case "lt", "lessthan", "<": return try Operators.compare(.less, value, other)
        case "le", "<=": return try Operators.compare(.lessEqual, value, other)
        case "gt", "greaterthan", ">": return try Operators.compare(.greater, value, other)
        case "ge", ">=": return try Operators.compare(.greaterEqual, value, other)
        case "in": return try Operators.contains(other, value)
        case "sameas":
            switch (value, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case let (.bool(a), .bool(b)): return a == b
            default: return false
            }
        case "lower": return value.pythonString == value.pythonString.lowercased()
        case "upper": return value.pythonString == value.pythonString.uppercased()
        case "escaped": return false
        default: throw .render("No test named '\(name)'.")
        }
    }
}
