/// jinja2's built-in filters (and Hugging Face's `tojson`), with Python's string semantics.
extension Interpreter {
    func applyFilter(_ filter: FilterCall, to value: Value, in frame: Frame) throws(TemplateError) -> Value {
        try applyFilter(filter.name, to: value, try evaluate(filter.arguments, in: frame))
    }

    func applyFilter(_ name: String, to value: Value, _ args: CallArguments) throws(TemplateError) -> Value {
        switch name {
        case "length", "count":
            return .int(try length(of: value))
        case "first":
            return try iterate(value).first ?? .undefined
        case "last":
            return try iterate(value).last ?? .undefined
        case "join":
            let separator = args.value(0, "d")?.pythonString ?? ""
            var items = try iterate(value)
            if let attribute = args.value(1, "attribute") { items = items.map { self.attribute(attribute.pythonString, of: $0) } }
            return .string(items.map(\.pythonString).joined(separator: separator))
        case "default", "d":
            let fallback = args.value(0, "default_value") ?? .string("")
            let boolean = args.value(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "capitalize": return .string(PythonString.capitalize(value.pythonString))
        case "title": return .string(PythonString.jinjaTitle(value.pythonString))
        case "trim":
            return .string(PythonString.strip(value.pythonString, chars: args.value(0, "chars")?.stringValue, leading: true, trailing: true))
        case "replace":
            guard let old = args.value(0, "old"), let new = args.value(1, "new") else { throw .render("replace() needs old and new") }
            let count = args.value(2, "count")?.numeric.map { if case let .int(i) = $0 { i } else { -1 } } ?? -1
            return .string(PythonString.replace(value.pythonString, old.pythonString, new.pythonString, count: count))
        case "tojson":
            var indent: Int?
            if case let .int(i)? = args.value(0, "indent")?.numeric { indent = i }
            return .string(try value.json(indent: indent, sortKeys: args.keyword("sort_keys")?.isTruthy ?? false))
        case "string": return .string(value.pythonString)
        case "int": return toInt(value, fallback: args.value(0, "default") ?? .int(0))
        case "float": return toFloat(value, fallback: args.value(0, "default") ?? .double(0))
        case "list": return .array(try iterate(value))
        case "items":
            switch value {
            case .undefined: return .array([])
            case let .object(object): return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            default: throw .render("items filter needs a mapping, got '\(value.typeName)'")
            }
        case "dictsort":
            guard case let .object(object) = value else { throw .render("dictsort filter needs a mapping") }
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let byValue = args.value(1, "by")?.pythonString == "value"
            let reverse = args.value(2, "reverse")?.isTruthy ?? false
            var pairs = object.pairs.map { Value.array([.string($0.key), $0.value]) }
            try sortValues(&pairs, key: { byValue ? self.item(.int(1), of: $0) : self.item(.int(0), of: $0) }, caseSensitive: caseSensitive, reverse: reverse)
            return .array(pairs)
        case "sort":
            var items = try iterate(value)
            let reverse = args.value(0, "reverse")?.isTruthy ?? false
            let caseSensitive = args.value(1, "case_sensitive")?.isTruthy ?? false
            let attribute = args.value(2, "attribute")?.pythonString
            try sortValues(&items, key: { item in attribute.map { self.attribute($0, of: item) } ?? item }, caseSensitive: caseSensitive, reverse: reverse)
            return .array(items)
        case "reverse":
            if case let .string(s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try iterate(value).reversed())
        case "map":
            let items = try iterate(value)
            if let attribute = args.keyword("attribute") {
                let fallback = args.keyword("default")
                return .array(items.map { item in
                    let v = self.attribute(attribute.pythonString, of: item)
                    return v.isUndefined ? (fallback ?? v) : v
                })
            }
            guard case let .string(filterName)? = args.positional.first else { throw .render("map() needs a filter name or attribute=") }
            let rest = CallArguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
            var out: [Value] = []
            for item in items { out.append(try applyFilter(filterName, to: item, rest)) }
            return .array(out)
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var positional = args.positional
            var attributeName: String?
            if byAttribute {
                guard !positional.isEmpty else { throw .render("\(name)() needs an attribute name") }
                attributeName = positional.removeFirst().pythonString
            }
            let testName = positional.isEmpty ? nil : positional.removeFirst().pythonString
            let testArgs = CallArguments(positional: positional)
            var out: [Value] = []
            for item in try iterate(value) {
                let subject = attributeName.map { self.attribute($0, of: item) } ?? item
                let passes = try testName.map { t throws(TemplateError) in try applyTest(t, to: subject, arguments: testArgs) } ?? subject.isTruthy
                if passes == keep { out.append(item) }
            }
            return .array(out)
        case "unique":
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let attribute = args.value(1, "attribute")?.pythonString
            var seen: [Value] = []
            var out: [Value] = []
            for item in try iterate(value) {
                var key = attribute.map { self.attribute($0, of: item) } ?? item
                if !caseSensitive, case let .string(s) = key { key = .string(s.lowercased()) }
                if !seen.contains(key) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .array(out)
        case "safe": return value
        case "e", "escape", "forceescape": return .string(PythonString.htmlEscape(value.pythonString))
        case "indent":
            let width = args.value(0, "width") ?? .int(4)
            let indentation = if case let .string(s) = width { s } else { String(repeating: " ", count: max(0, width.intValue)) }
            return .string(PythonString.indent(value.pythonString, indentation,
                                               first: args.value(1, "first")?.isTruthy ?? false,
                                               blank: args.value(2, "blank")?.isTruthy ?? false))
        case "abs":
            switch value.numeric {
            case let .int(i)?: return .int(i.magnitude > UInt(Int.max) ? i : abs(i))
            case let .double(d)?: return .double(abs(d))
            case nil: throw .render("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let precision = args.value(0, "precision")?.intValue ?? 0
            let method = args.value(1, "method")?.pythonString ?? "common"
            guard let n = value.numeric else { throw .render("round filter needs a number") }
            var scale = 1.0
            for _ in 0..<max(0, precision) { scale *= 10 }
            let x = n.asDouble * scale
            let rounded = switch method {
            case "ceil": x.rounded(.up)
            case "floor": x.rounded(.down)
            default: x.rounded(.toNearestOrEven)
            }
            return .double(rounded / scale)
        case "sum":
            var total = args.value(1, "start") ?? .int(0)
            let attribute = args.value(0, "attribute")?.pythonString
            for item in try iterate(value) {
                total = try Operators.binary(.add, total, attribute.map { self.attribute($0, of: item) } ?? item)
            }
            return total
        case "min", "max":
            var items = try iterate(value)
            guard !items.isEmpty else { return .undefined }
            try sortValues(&items, key: { $0 }, caseSensitive: args.value(0, "case_sensitive")?.isTruthy ?? false, reverse: false)
            return name == "min" ? items.first! : items.last!
        case "wordcount":
            return .int(value.pythonString.split(whereSeparator: { $0.isWhitespace }).count)
        case "attr":
            return attribute(args.value(0, "name")?.pythonString ?? "", of: value)
        case "batch":
            guard case let .int(size)? = args.value(0, "linecount")?.numeric, size > 0 else { throw .render("batch() needs a positive size") }
            let items = try iterate(value)
            return .array(stride(from: 0, to: items.count, by: size).map { .array(Array(items[$0..<min($0 + size, items.count)])) })
        default:
            throw .render("No filter named '\(name)'.")
        }
    }

    func length(of value: Value) throws(TemplateError) -> Int {
        switch value {
        case .undefined: 0
        case let .string(s): s.unicodeScalars.count
        case let .array(a): a.count
        case let .object(o): o.count
        default: throw .render("object of type '\(value.typeName)' has no len()")
        }
    }

    /// A stable sort by Python ordering; strings compare lowercased unless case-sensitive.
    private func sortValues(_ items: inout [Value], key: (Value) -> Value, caseSensitive: Bool, reverse: Bool) throws(TemplateError) {
        let keyed = items.map { item -> (Value, Value) in
            var k = key(item)
            if !caseSensitive, case let .string(s) = k { k = .string(s.lowercased()) }
            return (k, item)
        }
        var failure: TemplateError?
        let sorted = keyed.enumerated().sorted { a, b in
            do {
                let c = try Operators.order(a.element.0, b.element.0, .less)
                if c != 0 { return reverse ? c > 0 : c < 0 }
            } catch {
                failure = error as? TemplateError ?? .render("\(error)")
            }
            return a.offset < b.offset
        }
        if let failure { throw failure }
        items = sorted.map { $0.element.1 }
    }

    private func toInt(_ value: Value, fallback: Value) -> Value {
        switch value {
        case let .int(i): return .int(i)
        case let .bool(b): return .int(b ? 1 : 0)
        case let .double(d):
            guard d.isFinite, d.magnitude < 9.2e18 else { return fallback }
            return .int(Int(d))
        case let .string(s):
            let trimmed = PythonString.strip(s, chars: nil, leading: true, trailing: true).filter { $0 != "_" }
            if let i = Int(trimmed) { return .int(i) }
            if let d = Double(trimmed), d.isFinite, d.magnitude < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private func toFloat(_ value: Value, fallback: Value) -> Value {
        switch value {
        case let .int(i): return .double(Double(i))
        case let .bool(b): return .double(b ? 1 : 0)
        case let .double(d): return .double(d)
        case let .string(s):
            if let d = Double(PythonString.strip(s, chars: nil, leading: true, trailing: true)) { return .double(d) }
            return fallback
        default: return fallback
        }
    }
}

extension Value {
    var stringValue: String? {
        if case let .string(s) = self { s } else { nil }
    }
}
