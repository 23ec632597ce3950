package import TramJSON

/// What a request asks its output to match, read from the body's `response_format` (OpenAI)
/// or `structured_outputs` (vLLM), as vLLM reads them:
///
///     "response_format": {"type": "text" | "json_object"}
///     "response_format": {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}
///     "structured_outputs": {exactly one of "json" (a schema, or its JSON text), "regex",
///                            "choice" (strings), "grammar" (EBNF), "json_object": true;
///                            "disable_any_whitespace", "disable_additional_properties"}
///
/// `response_format` wins when both are sent. Fields of the wrong type and unknown kinds are
/// refused with the field named (an `InputError`, a 400), never ignored.
package struct StructuredOutputRequest: Sendable, Equatable, Hashable {
    package enum Constraint: Sendable, Equatable, Hashable {
        case jsonSchema(JSONText, JSONSchemaOptions)
        case jsonObject(JSONSchemaOptions)
        case regex(String)
        case choice([String])
        case grammar(String)
    }

    package var constraint: Constraint
    /// The body field it came from (compile errors name it).
    package var param: String

    /// The JSON language options (vLLM's `disable_any_whitespace`,
    /// `disable_additional_properties`).
    package struct JSONSchemaOptions: Sendable, Equatable, Hashable {
        package var anyWhitespace = true
        package var disableAdditionalProperties = false
    }

    /// A JSON value kept as canonical text (it keys the compile cache).
    package struct JSONText: Sendable, Equatable, Hashable {
        package var text: String
    }

    /// The request's constraint, or nil when it has none (`response_format` absent or `text`,
    /// no `structured_outputs`).
    package static func parse(body: JSONValue) throws -> StructuredOutputRequest? {
        // vLLM's older spelling, since replaced by `structured_outputs`: refused, naming the
        // replacement, rather than ignored (the output would silently be unconstrained).
        for (old, new) in [("guided_json", "json"), ("guided_regex", "regex"), ("guided_choice", "choice"), ("guided_grammar", "grammar"),
                           ("guided_decoding_backend", "backend"), ("guided_whitespace_pattern", "whitespace_pattern")]
        where !(body[old]?.isNull ?? true) {
            throw InputError("\(old) is vLLM's former spelling; send \"structured_outputs\": {\"\(new)\": ...} instead", param: old)
        }
        let outputs = try structuredOutputs(body["structured_outputs"])
        if let format = body["response_format"], !format.isNull {
            return try responseFormat(format, options: outputs.options)
        }
        return outputs.request
    }

    private static func responseFormat(_ format: JSONValue, options: JSONSchemaOptions) throws -> StructuredOutputRequest? {
        guard format.objectValue != nil else { throw InputError("response_format must be an object", param: "response_format") }
        guard let type = format["type"]?.stringValue else {
            throw InputError("response_format.type must be one of 'text', 'json_object', 'json_schema'", param: "response_format.type")
        }
        switch type {
        case "text": return nil
        case "json_object": return StructuredOutputRequest(constraint: .jsonObject(options), param: "response_format")
        case "json_schema":
            guard let spec = format["json_schema"], spec.objectValue != nil else {
                throw InputError("response_format of type 'json_schema' needs a 'json_schema' object", param: "response_format.json_schema")
            }
            if let name = spec["name"], name.stringValue == nil {
                throw InputError("response_format.json_schema.name must be a string", param: "response_format.json_schema.name")
            }
            if let strict = spec["strict"], !strict.isNull, strict.boolValue == nil {
                throw InputError("response_format.json_schema.strict must be a boolean", param: "response_format.json_schema.strict")
            }
            guard let schema = spec["schema"], !schema.isNull else {
                throw InputError("response_format.json_schema.schema is required", param: "response_format.json_schema.schema")
            }
            let param = "response_format.json_schema.schema"
            return StructuredOutputRequest(constraint: .jsonSchema(try schemaText(schema, param: param), options), param: param)
        default:
            throw InputError("response_format.type must be one of 'text', 'json_object', 'json_schema', got '\(type)'", param: "response_format.type")
        }
    }

    private static func structuredOutputs(_ value: JSONValue?) throws -> (request: StructuredOutputRequest?, options: JSONSchemaOptions) {
        var options = JSONSchemaOptions()
        guard let value, !value.isNull else { return (nil, options) }
        guard let fields = value.objectValue else { throw InputError("structured_outputs must be an object", param: "structured_outputs") }
        func flag(_ key: String) throws -> Bool? {
            guard let v = value[key], !v.isNull else { return nil }
            guard let b = v.boolValue else { throw InputError("structured_outputs.\(key) must be a boolean", param: "structured_outputs.\(key)") }
            return b
        }
        if let b = try flag("disable_any_whitespace") { options.anyWhitespace = !b }
        if let b = try flag("disable_additional_properties") { options.disableAdditionalProperties = b }
        let known: Set<String> = ["json", "regex", "choice", "grammar", "json_object", "structural_tag", "disable_any_whitespace",
                                  "disable_additional_properties", "disable_fallback", "whitespace_pattern", "backend"]
        if let unknown = fields.map(\.key).first(where: { !known.contains($0) }) {
            throw InputError("structured_outputs has no field '\(unknown)'", param: "structured_outputs.\(unknown)")
        }
        for key in ["structural_tag", "whitespace_pattern"] where !(value[key]?.isNull ?? true) {
            throw InputError("structured_outputs.\(key) is not supported", param: "structured_outputs.\(key)")
        }
        var kinds: [StructuredOutputRequest] = []
        if let json = value["json"], !json.isNull {
            if let text = json.stringValue {
                let parsed: JSONValue
                do { parsed = try JSONParser.parse(Array(text.utf8)) } catch {
                    throw InputError("structured_outputs.json is not valid JSON: \(error.reason)", param: "structured_outputs.json")
                }
                kinds.append(.init(constraint: .jsonSchema(try schemaText(parsed, param: "structured_outputs.json"), options), param: "structured_outputs.json"))
            } else {
                kinds.append(.init(constraint: .jsonSchema(try schemaText(json, param: "structured_outputs.json"), options), param: "structured_outputs.json"))
            }
        }
        if let regex = value["regex"], !regex.isNull {
            guard let s = regex.stringValue else { throw InputError("structured_outputs.regex must be a string", param: "structured_outputs.regex") }
            kinds.append(.init(constraint: .regex(s), param: "structured_outputs.regex"))
        }
        if let choice = value["choice"], !choice.isNull {
            guard let list = choice.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) else {
                throw InputError("structured_outputs.choice must be a non-empty list of strings", param: "structured_outputs.choice")
            }
            kinds.append(.init(constraint: .choice(list.map { $0.stringValue! }), param: "structured_outputs.choice"))
        }
        if let grammar = value["grammar"], !grammar.isNull {
            guard let s = grammar.stringValue else { throw InputError("structured_outputs.grammar must be a string", param: "structured_outputs.grammar") }
            kinds.append(.init(constraint: .grammar(s), param: "structured_outputs.grammar"))
        }
        if let b = try flag("json_object"), b { kinds.append(.init(constraint: .jsonObject(options), param: "structured_outputs.json_object")) }
        if kinds.count > 1 {
            throw InputError("You can only use one kind of structured outputs constraint but multiple are specified: \(fields.map(\.key).filter { ["json", "regex", "choice", "grammar", "json_object"].contains($0) }.joined(separator: ", "))", param: "structured_outputs")
        }
        return (kinds.first, options)
    }

    private static func schemaText(_ schema: JSONValue, param: String) throws -> JSONText {
        switch schema {
        case .object, .bool: return JSONText(text: JSONWriter.serialize(schema))
        default: throw InputError("\(param) must be a JSON schema (an object)", param: param)
        }
    }
}
