public import TramJSON

/// JSON Schema → grammar, producing the JSON language vLLM's default backend (xgrammar)
/// accepts (recorded in `scripts/grammar-oracle/NOTES.md`): properties in the schema's order,
/// required ones present and optional ones skippable; whitespace `[ \n\r\t]*` around
/// punctuation (none before or after the value), or, with `anyWhitespace: false`, Python's
/// `", "` / `": "` separators; no extra keys or items where the schema lists them (strict mode).
///
/// Where xgrammar's output would not be valid JSON Tram keeps to JSON: strings with
/// `minLength`/`maxLength` and `pattern` strings take escapes and never raw control
/// characters, quotes or backslashes (xgrammar allows raw ones there).
///
/// Keywords that constrain values and that Tram does not enforce are refused, listed, with
/// their schema path (`GrammarError.unsupportedKeywords`); annotations (`title`,
/// `description`, `default`, `examples`, …) are read past.
public struct JSONSchemaCompiler {
    public struct Options: Sendable, Equatable, Hashable {
        /// Free whitespace around punctuation (vLLM's default); false: `disable_any_whitespace`.
        public var anyWhitespace = true
        /// No properties beyond an object's `properties` (vLLM's `disable_additional_properties`
        /// forces this even where a schema says `additionalProperties: true`).
        public var disableAdditionalProperties = false

        public init(anyWhitespace: Bool = true, disableAdditionalProperties: Bool = false) {
            self.anyWhitespace = anyWhitespace
            self.disableAdditionalProperties = disableAdditionalProperties
        }
    }

    private let root: JSONValue
    private let options: Options
    private var grammar = Grammar()
    private var refRules: [String: Int] = [:]
    private var shared: [String: Int] = [:]
    private var depth = 0

    /// The grammar of JSON documents valid under `schema` (JSON text).
    public static func compile(_ schema: String, options: Options = Options()) throws -> Grammar {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(schema.utf8))
        } catch {
            throw GrammarError.schema("not valid JSON: \(error.reason) at byte \(error.offset)", path: "")
        }
        return try compile(value, options: options)
    }

    public static func compile(_ schema: JSONValue, options: Options = Options()) throws -> Grammar {
        var compiler = JSONSchemaCompiler(root: schema, options: options)
        let body = try compiler.value(schema, path: "")
        compiler.grammar.define("root", body)
        return compiler.grammar
    }

    /// Any JSON object (`response_format: {"type": "json_object"}`).
    public static func anyObject(options: Options = Options()) -> Grammar {
        var compiler = JSONSchemaCompiler(root: .object([]), options: options)
        let body = compiler.anyObjectRule()
        compiler.grammar.define("root", .rule(body))
        return compiler.grammar
    }

    private init(root: JSONValue, options: Options) {
        self.root = root
        self.options = options
    }

    // MARK: Punctuation

    private var ws: Grammar.Expr {
        mutating get {
            guard options.anyWhitespace else { return .empty }
            return .rule(sharedRule("ws") { _ in .star(.byteSet(Self.whitespace)) })
        }
    }

    private static let whitespace: ByteSet = {
        var s = ByteSet()
        for c in " \n\r\t".utf8 { s.insert(c) }
        return s
    }()

    private mutating func open(_ c: String) -> Grammar.Expr { .sequence([.literal(c), ws]) }
    private mutating func close(_ c: String) -> Grammar.Expr { .sequence([ws, .literal(c)]) }
    private mutating func comma() -> Grammar.Expr { options.anyWhitespace ? .sequence([ws, .literal(","), ws]) : .literal(", ") }
    private mutating func colon() -> Grammar.Expr { options.anyWhitespace ? .sequence([ws, .literal(":"), ws]) : .literal(": ") }

    private mutating func sharedRule(_ name: String, _ body: (inout JSONSchemaCompiler) -> Grammar.Expr) -> Int {
        if let i = shared[name] { return i }
        let i = grammar.declare(grammar.freshName(name))
        shared[name] = i
        grammar.define(i, body(&self))
        return i
    }

    /// `e` as a rule of its own when it is more than a reference or a terminal, so that the
    /// places that repeat it (an object's chain of optional properties, an array's first and
    /// further items) share it instead of copying a nested schema's whole grammar.
    private mutating func named(_ e: Grammar.Expr, _ stem: String) -> Grammar.Expr {
        switch e {
        case .rule, .bytes, .byteSet, .empty: return e
        default:
            let i = grammar.declare(grammar.freshName(stem))
            grammar.define(i, e)
            return .rule(i)
        }
    }

    // MARK: Schemas

    /// Validation keywords of JSON Schema (drafts 4 to 2020-12) that Tram does not enforce: a
    /// schema using one is refused, listing them. Every other keyword Tram does not handle is
    /// an annotation (`title`, `description`, `default`, `examples`, `$schema`, `id`, vendor
    /// extensions…), which the specification says validators ignore.
    private static let unsupported: Set<String> = [
        "not", "if", "then", "else", "dependencies", "dependentRequired", "dependentSchemas", "patternProperties",
        "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems", "uniqueItems", "contains",
        "minContains", "maxContains", "multipleOf", "minProperties", "maxProperties", "$dynamicRef", "$recursiveRef",
    ]
    /// The keywords Tram turns into grammar.
    private static let handled: Set<String> = [
        "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required", "additionalProperties",
        "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum",
    ]

    private mutating func value(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > 200 { throw GrammarError.tooLarge("schema nested more than 200 levels deep") }
        switch schema {
        case .bool(true): return .rule(anyValueRule())
        case .bool(false): throw GrammarError.schema("the schema 'false' admits no value", path: path)
        case .object: break
        default: throw GrammarError.schema("a schema must be an object or a boolean", path: path)
        }
        let members = schema.objectValue!
        let refused = members.map(\.key).filter { Self.unsupported.contains($0) }
        if !refused.isEmpty { throw GrammarError.unsupportedKeywords(refused, path: path) }

        if let ref = schema["$ref"] {
            guard let pointer = ref.stringValue else { throw GrammarError.schema("$ref must be a string", path: path) }
            let others = members.map(\.key).filter { Self.handled.contains($0) && $0 != "$ref" }
            if !others.isEmpty { throw GrammarError.unsupportedKeywords(others.map { "\($0) beside $ref" }, path: path) }
            return .rule(try refRule(pointer, path: path))
        }
        if let options = schema["anyOf"] ?? schema["oneOf"] {
            let key = schema["anyOf"] != nil ? "anyOf" : "oneOf"
            guard let list = options.arrayValue, !list.isEmpty else { throw GrammarError.schema("\(key) must be a non-empty array", path: path) }
            let base = JSONValue.object(members.filter { $0.key != key && Self.handled.contains($0.key) })
            var alternatives: [Grammar.Expr] = []
            for (i, option) in list.enumerated() {
                let merged = base.objectValue!.isEmpty ? option : try Self.merge(base, option, path: path)
                alternatives.append(try value(merged, path: "\(path)/\(key)/\(i)"))
            }
            return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
        }
        if let all = schema["allOf"] {
            guard let list = all.arrayValue, !list.isEmpty else { throw GrammarError.schema("allOf must be a non-empty array", path: path) }
            var merged = JSONValue.object(members.filter { $0.key != "allOf" })
            for part in list { merged = try Self.merge(merged, try resolveIfRef(part, path: path), path: path) }
            return try value(merged, path: path)
        }
        if let options = schema["enum"] {
            guard let list = options.arrayValue, !list.isEmpty else { throw GrammarError.schema("enum must be a non-empty array", path: path) }
            let items = list.map { Grammar.Expr.literal(JSONWriter.serialize($0)) }
            return items.count == 1 ? items[0] : .choice(items)
        }
        if let constant = schema["const"] {
            return .literal(JSONWriter.serialize(constant))
        }

        let types: [String]
        switch schema["type"] {
        case nil: types = Self.inferredTypes(schema)
        case .string(let t)?: types = [t]
        case .array(let list)?:
            types = try list.map { guard let t = $0.stringValue else { throw GrammarError.schema("type must name JSON types", path: path) }; return t }
        default: throw GrammarError.schema("type must be a string or an array of strings", path: path)
        }
        if types.isEmpty { return .rule(anyValueRule()) }
        var alternatives: [Grammar.Expr] = []
        for t in types {
            switch t {
            case "object": alternatives.append(try object(schema, path: path))
            case "array": alternatives.append(try array(schema, path: path))
            // Each scalar in a rule of its own, so that its closing bytes belong to it and not
            // to the enclosing property: the mask inside it is then the same in every context
            // (see `Automaton.localState(ofStack:)`).
            case "string": alternatives.append(named(try string(schema, path: path), "string"))
            case "integer": alternatives.append(named(try integer(schema, path: path), "integer"))
            case "number": alternatives.append(named(try number(schema, path: path), "number"))
            case "boolean": alternatives.append(.choice([.literal("true"), .literal("false")]))
            case "null": alternatives.append(.literal("null"))
            default: throw GrammarError.schema("unknown type '\(t)'", path: path)
            }
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// Types implied by the keywords present when `type` is absent (no keywords: any value).
    private static func inferredTypes(_ schema: JSONValue) -> [String] {
        var types: [String] = []
        let keys = Set(schema.objectValue!.map(\.key))
        if !keys.isDisjoint(with: ["properties", "additionalProperties", "required"]) { types.append("object") }
        if !keys.isDisjoint(with: ["items", "prefixItems", "minItems", "maxItems"]) { types.append("array") }
        if !keys.isDisjoint(with: ["minLength", "maxLength", "pattern", "format"]) { types.append("string") }
        if !keys.isDisjoint(with: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) { types.append("number") }
        return types
    }

    /// `a` and `b`'s keywords together (allOf, and an anyOf's siblings); `required` lists and
    /// `properties` are combined, other keywords must agree.
    private static func merge(_ a: JSONValue, _ b: JSONValue, path: String) throws -> JSONValue {
        guard var out = a.objectValue, let extra = b.objectValue else {
            if case .bool(true) = b { return a }
            throw GrammarError.schema("allOf parts must be object schemas", path: path)
        }
        for (key, v) in extra {
            guard let i = out.firstIndex(where: { $0.key == key }) else { out.append((key, v)); continue }
            switch key {
            case "required":
                let names = (out[i].value.arrayValue ?? []) + (v.arrayValue ?? []).filter { n in !(out[i].value.arrayValue ?? []).contains { $0.stringValue == n.stringValue } }
                out[i].value = .array(names)
            case "properties":
                var props = out[i].value.objectValue ?? []
                for (name, s) in v.objectValue ?? [] {
                    if let j = props.firstIndex(where: { $0.key == name }) {
                        props[j].value = .object([("allOf", .array([props[j].value, s]))])
                    } else {
                        props.append((name, s))
                    }
                }
                out[i].value = .object(props)
            default:
                if !handled.contains(key) { continue }
                guard JSONWriter.serialize(out[i].value) == JSONWriter.serialize(v) else {
                    throw GrammarError.unsupportedKeywords(["allOf with differing '\(key)'"], path: path)
                }
            }
        }
        return .object(out)
    }

    private func resolveIfRef(_ schema: JSONValue, path: String) throws -> JSONValue {
        guard let ref = schema["$ref"]?.stringValue else { return schema }
        return try resolve(ref, path: path)
    }

    private func resolve(_ pointer: String, path: String) throws -> JSONValue {
        guard pointer.hasPrefix("#") else { throw GrammarError.unsupportedKeywords(["$ref to another document (\(pointer))"], path: path) }
        var node = root
        let tokens = pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: true)
        for raw in tokens {
            let token = JSONText.pointerUnescape(raw)
            if let next = node[token] {
                node = next
            } else if let list = node.arrayValue, let i = Int(token), list.indices.contains(i) {
                node = list[i]
            } else {
                throw GrammarError.schema("$ref '\(pointer)' points nowhere", path: path)
            }
        }
        return node
    }

    private mutating func refRule(_ pointer: String, path: String) throws -> Int {
        if let i = refRules[pointer] { return i }
        let target = try resolve(pointer, path: path)
        let stem = pointer == "#" ? "root_ref" : "defs_" + String(pointer.split(separator: "/").last ?? "ref").filter { $0.isLetter || $0.isNumber || $0 == "_" }
        let i = grammar.declare(grammar.freshName(stem))
        refRules[pointer] = i
        grammar.define(i, try value(target, path: String(pointer.dropFirst())))
        return i
    }

    // MARK: Objects

    private mutating func object(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        let properties = schema["properties"]?.objectValue ?? []
        if schema["properties"] != nil && schema["properties"]?.objectValue == nil {
            throw GrammarError.schema("properties must be an object", path: path)
        }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        for name in required where !properties.contains(where: { $0.key == name }) {
            if properties.isEmpty && schema["additionalProperties"] == nil { continue }
            throw GrammarError.unsupportedKeywords(["required property '\(name)' missing from properties"], path: path)
        }
        // Extra keys: their value schema, or nil when none may appear.
        var additional: JSONValue?
        switch schema["additionalProperties"] {
        case nil: additional = properties.isEmpty ? .bool(true) : nil
        case .bool(false)?: additional = nil
        case .bool(true)?: additional = .bool(true)
        case let s?: additional = s
        }
        if options.disableAdditionalProperties && !properties.isEmpty { additional = nil }
        if properties.isEmpty, case .bool(true)? = additional { return .rule(anyObjectRule()) }

        var items: [(Grammar.Expr, Bool)] = []
        for (name, propertySchema) in properties {
            let v = try value(propertySchema, path: "\(path)/properties/\(JSONText.pointerEscape(name))")
            let item = named(.sequence([.literal(JSONWriter.serialize(.string(name))), colon(), v]), "property")
            items.append((item, required.contains(name)))
        }
        var extra: Grammar.Expr?
        if let additional {
            let v = try value(additional, path: "\(path)/additionalProperties")
            extra = named(.sequence([.rule(stringRule()), colon(), v]), "additional")
        }
        // after[i]: the rest once something was written; first[i]: the rest, nothing yet.
        let base = grammar.freshName("object")
        var after: Grammar.Expr = .empty
        var first: Grammar.Expr?
        if let extra { after = .star(.sequence([comma(), extra])); first = .sequence([extra, after]) }
        for (item, isRequired) in items.reversed() {
            let rule = grammar.declare(grammar.freshName(base + "_part"))
            grammar.define(rule, after)
            let next = Grammar.Expr.rule(rule)
            let withItem = Grammar.Expr.sequence([item, next])
            first = isRequired ? withItem : (first.map { .choice([withItem, $0]) } ?? withItem)
            after = isRequired ? .sequence([comma(), item, next]) : .choice([.sequence([comma(), item, next]), next])
        }
        let canBeEmpty = !items.contains { $0.1 }
        var alternatives: [Grammar.Expr] = []
        if let first { alternatives.append(.sequence([open("{"), first, close("}")])) }
        if canBeEmpty { alternatives.append(.sequence([.literal("{"), ws, .literal("}")])) }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    // MARK: Arrays

    private mutating func array(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        let lower = try count(schema, "minItems", path: path) ?? 0
        let upper = try count(schema, "maxItems", path: path)
        let prefix = schema["prefixItems"]?.arrayValue ?? []
        var prefixExprs: [Grammar.Expr] = []
        for (i, s) in prefix.enumerated() { prefixExprs.append(try value(s, path: "\(path)/prefixItems/\(i)")) }
        var item: Grammar.Expr?
        switch schema["items"] {
        case nil: item = prefix.isEmpty ? .rule(anyValueRule()) : nil
        case .bool(false)?: item = nil
        case .array(let tuple)?:
            // Draft 4's tuple form: `items` as a list is `prefixItems`, `additionalItems` absent.
            var copy = schema.objectValue!.filter { $0.key != "items" }
            copy.append(("prefixItems", .array(tuple)))
            copy.append(("items", .bool(false)))
            return try array(.object(copy), path: path)
        case let s?: item = named(try value(s, path: "\(path)/items"), "item")
        }
        if let upper, upper < lower { throw GrammarError.schema("maxItems is below minItems", path: path) }
        if let upper, upper < prefix.count { throw GrammarError.unsupportedKeywords(["maxItems below the number of prefixItems"], path: path) }
        let fixed = prefixExprs.count
        let restLower = max(lower - fixed, 0)
        let restUpper = upper.map { $0 - fixed }
        if item == nil && restLower > 0 { throw GrammarError.schema("minItems exceeds the items the schema allows", path: path) }

        var elements: [Grammar.Expr] = []
        for (i, e) in prefixExprs.enumerated() { elements.append(i == 0 ? e : .sequence([comma(), e])) }
        var body: Grammar.Expr
        if let item, restUpper != 0 {
            if fixed > 0 {
                body = .sequence(elements + [.repeat(.sequence([comma(), item]), min: restLower, max: restUpper)])
            } else {
                let tail = Grammar.Expr.repeat(.sequence([comma(), item]), min: max(restLower - 1, 0), max: restUpper.map { $0 - 1 })
                body = .sequence([item, tail])
            }
        } else {
            body = .sequence(elements)
        }
        var alternatives: [Grammar.Expr] = []
        if fixed > 0 || (item != nil && restUpper != 0) { alternatives.append(.sequence([open("["), body, close("]")])) }
        if fixed == 0 && lower == 0 { alternatives.append(.sequence([.literal("["), ws, .literal("]")])) }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    private func count(_ schema: JSONValue, _ key: String, path: String) throws -> Int? {
        guard let v = schema[key] else { return nil }
        guard let n = v.intValue, n >= 0 else { throw GrammarError.schema("\(key) must be a non-negative integer", path: path) }
        if n > 100_000 { throw GrammarError.tooLarge("\(key) \(n) at '\(path)'") }
        return n
    }

    // MARK: Strings

    private mutating func string(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        let lower = try count(schema, "minLength", path: path)
        let upper = try count(schema, "maxLength", path: path)
        if let pattern = schema["pattern"] {
            guard let text = pattern.stringValue else { throw GrammarError.schema("pattern must be a string", path: path) }
            if lower != nil || upper != nil || schema["format"] != nil {
                throw GrammarError.unsupportedKeywords(["pattern with minLength/maxLength/format"], path: path)
            }
            do {
                return .sequence([.literal("\""), try RegexCompiler.expression(text, jsonString: true), .literal("\"")])
            } catch let GrammarError.regex(what, offset) {
                throw GrammarError.schema("pattern does not compile: \(what) at offset \(offset)", path: path + "/pattern")
            }
        }
        if let format = schema["format"] {
            guard let name = format.stringValue else { throw GrammarError.schema("format must be a string", path: path) }
            if lower != nil || upper != nil { throw GrammarError.unsupportedKeywords(["format with minLength/maxLength"], path: path) }
            // Formats Tram has no grammar for stay annotations, as the specification allows
            // (2019-09 on: `format` asserts nothing unless a validator opts in).
            guard let regex = JSONFormats.regex[name] else { return .rule(stringRule()) }
            return .sequence([.literal("\""), try RegexCompiler.expression(regex, jsonString: true), .literal("\"")])
        }
        if lower == nil && upper == nil { return .rule(stringRule()) }
        if let upper, let lower, upper < lower { throw GrammarError.schema("maxLength is below minLength", path: path) }
        return .sequence([.literal("\""), .repeat(.rule(stringCharRule()), min: lower ?? 0, max: upper), .literal("\"")])
    }

    private mutating func stringCharRule() -> Int {
        sharedRule("json_char") { _ in JSONStringEncoding.anyCharacter }
    }

    private mutating func stringRule() -> Int {
        let char = stringCharRule()
        return sharedRule("json_string") { _ in .sequence([.literal("\""), .star(.rule(char)), .literal("\"")]) }
    }

    // MARK: Numbers

    private mutating func integer(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        var lower: Int?, upper: Int?
        func bound(_ key: String) throws -> Double? {
            guard let v = schema[key], v.boolValue == nil else { return nil }
            guard let d = v.doubleValue, d.isFinite, abs(d) < 1e15 else { throw GrammarError.schema("\(key) must be a number", path: path) }
            return d
        }
        if let m = try bound("minimum") {
            lower = schema["exclusiveMinimum"]?.boolValue == true ? Int(m.rounded(.down)) + 1 : Int(m.rounded(.up))
        }
        if let m = try bound("maximum") {
            upper = schema["exclusiveMaximum"]?.boolValue == true ? Int(m.rounded(.up)) - 1 : Int(m.rounded(.down))
        }
        if let m = try bound("exclusiveMinimum") { lower = max(lower ?? Int.min, Int(m.rounded(.down)) + 1) }
        if let m = try bound("exclusiveMaximum") { upper = min(upper ?? Int.max, Int(m.rounded(.up)) - 1) }
        if lower == nil && upper == nil {
            return .rule(sharedRule("json_integer") { _ in IntegerRange.expr(lower: nil, upper: nil) })
        }
        if let lower, let upper, lower > upper { throw GrammarError.schema("the integer range is empty", path: path) }
        return IntegerRange.expr(lower: lower, upper: upper)
    }

    private mutating func number(_ schema: JSONValue, path: String) throws -> Grammar.Expr {
        var lower: NumberRange.Bound?, upper: NumberRange.Bound?
        func bound(_ key: String, inclusive: Bool) throws -> NumberRange.Bound? {
            guard let v = schema[key], v.boolValue == nil else { return nil }
            guard let d = v.doubleValue, d.isFinite else { throw GrammarError.schema("\(key) must be a number", path: path) }
            guard d.rounded() == d, abs(d) < 1e15 else {
                throw GrammarError.unsupportedKeywords(["\(key) \(d) on a number (Tram enforces integer bounds on numbers)"], path: path)
            }
            return NumberRange.Bound(value: Int(d), inclusive: inclusive)
        }
        lower = try bound("minimum", inclusive: schema["exclusiveMinimum"]?.boolValue != true)
        upper = try bound("maximum", inclusive: schema["exclusiveMaximum"]?.boolValue != true)
        if let b = try bound("exclusiveMinimum", inclusive: false), lower.map({ b.value >= $0.value }) ?? true { lower = b }
        if let b = try bound("exclusiveMaximum", inclusive: false), upper.map({ b.value <= $0.value }) ?? true { upper = b }
        if lower == nil && upper == nil { return .rule(numberRule()) }
        guard let e = NumberRange.expr(lower: lower, upper: upper) else { throw GrammarError.schema("the number range is empty", path: path) }
        return e
    }

    private mutating func numberRule() -> Int {
        sharedRule("json_number") { _ in
            let digit = Grammar.Expr.byteSet(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))
            let natural = Grammar.Expr.choice([.literal("0"), .sequence([.byteSet(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9"))), .star(digit)])])
            var e = ByteSet(UInt8(ascii: "e")); e.insert(UInt8(ascii: "E"))
            var sign = ByteSet(UInt8(ascii: "+")); sign.insert(UInt8(ascii: "-"))
            return .sequence([
                .optional(.literal("-")), natural,
                .optional(.sequence([.literal("."), .plus(digit)])),
                .optional(.sequence([.byteSet(e), .optional(.byteSet(sign)), .plus(digit)])),
            ])
        }
    }

    // MARK: Any value

    private mutating func anyValueRule() -> Int {
        if let i = shared["json_value"] { return i }
        let i = grammar.declare(grammar.freshName("json_value"))
        shared["json_value"] = i
        let object = anyObjectRule()
        let array = sharedRule("json_array") { c in
            let v = Grammar.Expr.rule(i)
            return .choice([
                .sequence([c.open("["), v, .star(.sequence([c.comma(), v])), c.close("]")]),
                .sequence([.literal("["), c.ws, .literal("]")]),
            ])
        }
        grammar.define(i, .choice([
            .rule(object), .rule(array), .rule(stringRule()), .rule(numberRule()),
            .literal("true"), .literal("false"), .literal("null"),
        ]))
        return i
    }

    private mutating func anyObjectRule() -> Int {
        if let i = shared["json_object"] { return i }
        let i = grammar.declare(grammar.freshName("json_object"))
        shared["json_object"] = i
        let value = Grammar.Expr.rule(anyValueRule())
        let member = Grammar.Expr.sequence([.rule(stringRule()), colon(), value])
        grammar.define(i, .choice([
            .sequence([open("{"), member, .star(.sequence([comma(), member])), close("}")]),
            .sequence([.literal("{"), ws, .literal("}")]),
        ]))
        return i
    }
}
