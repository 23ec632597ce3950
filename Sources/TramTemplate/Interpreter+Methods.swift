/// Python methods called on values: `content.strip()`, `messages[0].get('x')`, `d.items()`.
extension Interpreter {
    func callMethod(_ name: String, on value: Value, _ args: CallArguments) throws(TemplateError) -> Value {
        switch value {
        case let .string(s): return try stringMethod(name, s, args)
        case let .object(object):
            switch name {
            case "items": return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            case "keys": return .array(object.keys.map(Value.string))
            case "values": return .array(object.values)
            case "get":
                let key = args.value(0, "key") ?? .undefined
                return object[key.pythonString] ?? args.value(1, "default") ?? .none
            default: break
            }
        case let .array(items):
            switch name {
            case "index":
                let needle = args.positional.first ?? .undefined
                guard let i = items.firstIndex(of: needle) else { throw .render("\(needle.pythonRepr) is not in list") }
                return .int(i)
            case "count":
                let needle = args.positional.first ?? .undefined
                return .int(items.filter { $0 == needle }.count)
            default: break
            }
        case .undefined:
            throw .render("'undefined' has no attribute '\(name)'")
        default: break
        }
        if name == "cycle", case let .object(loop) = value, case let .int(index0)? = loop["index0"] {
            guard !args.positional.isEmpty else { throw .render("no items for cycling given") }
            return args.positional[index0 % args.positional.count]
        }
        throw .render("'\(value.typeName)' object has no attribute '\(name)'")
    }

    private func stringMethod(_ name: String, _ s: String, _ args: CallArguments) throws(TemplateError) -> Value {
        func chars() -> String? { args.value(0, "chars")?.stringValue }
        switch name {
        case "strip": return .string(PythonString.strip(s, chars: chars(), leading: true, trailing: true))
        case "lstrip": return .string(PythonString.strip(s, chars: chars(), leading: true, trailing: false))
        case "rstrip": return .string(PythonString.strip(s, chars: chars(), leading: false, trailing: true))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(PythonString.pythonTitle(s))
        case "capitalize": return .string(PythonString.capitalize(s))
        case "split":
            let separator = args.value(0, "sep").flatMap { $0.stringValue }
            let maxSplit = args.value(1, "maxsplit")?.intValue ?? -1
            if separator?.isEmpty == true { throw .render("empty separator") }
            return .array(PythonString.split(s, separator: separator, maxSplit: maxSplit).map(Value.string))
        case "splitlines":
            return .array(PythonString.splitLines(s).map(Value.string))
        case "startswith", "endswith":
            let candidates: [Value] = switch args.positional.first {
            case let .array(items)?: items
            case let v?: [v]
            case nil: []
            }
            for candidate in candidates {
                guard case let .string(affix) = candidate else { throw .render("\(name) first arg must be str or a tuple of str") }
                if name == "startswith" ? s.unicodeScalars.starts(with: affix.unicodeScalars) : s.unicodeScalars.reversed().starts(with: affix.unicodeScalars.reversed()) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "replace":
            guard let old = args.value(0, "old")?.stringValue, let new = args.value(1, "new")?.stringValue else { throw .render("replace() arguments must be str") }
            return .string(PythonString.replace(s, old, new, count: args.value(2, "count")?.intValue ?? -1))
        case "format": return .string(try PythonString.format(s, args))
        case "join":
            return .string(try iterate(args.positional.first ?? .undefined).map(\.pythonString).joined(separator: s))
        case "find":
            guard let needle = args.positional.first?.stringValue else { throw .render("find() needs a string") }
            let hay = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
            if n.isEmpty { return .int(0) }
            if hay.count >= n.count {
                for i in 0...(hay.count - n.count) where Array(hay[i..<i + n.count]) == n { return .int(i) }
            }
            return .int(-1)
        case "count":
            guard let needle = args.positional.first?.stringValue else { throw .render("count() needs a string") }
            return .int(needle.isEmpty ? s.unicodeScalars.count + 1 : PythonString.split(s, separator: needle, maxSplit: -1).count - 1)
        case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(PythonString.isSpace))
        case "islower": return .bool(s.contains { $0.isLetter } && s == s.lowercased())
        case "isupper": return .bool(s.contains { $0.isLetter } && s == s.uppercased())
        default: throw .render("'str' object has no attribute '\(name)'")
        }
    }
}
