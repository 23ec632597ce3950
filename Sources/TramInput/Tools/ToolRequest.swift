package import TramJSON
package import TramTools

/// The server's tool-calling setup, vLLM's flags: `--enable-auto-tool-choice` and
/// `--tool-call-parser`.
package struct ToolCallingOptions: Sendable, Equatable {
    package var enableAutoToolChoice = false
    package var toolCallParser: String?

    package init(enableAutoToolChoice: Bool = false, toolCallParser: String? = nil) {
        self.enableAutoToolChoice = enableAutoToolChoice
        self.toolCallParser = toolCallParser
    }
}

/// A chat request's `tools`, `tool_choice` and `parallel_tool_calls`, judged as vLLM judges
/// them: `auto` needs `--enable-auto-tool-choice` and a parser, and then reads calls out of the
/// model's text; `required` and a named function are enforced with the grammar engine (an array
/// of `{name, parameters}` with at least one item, or the function's parameters), so the model
/// can only write calls; `none` leaves the tools to the chat template only.
package struct ToolRequest: Sendable {
    package enum Choice: Sendable, Equatable {
        case auto(parser: String)
        case required
        case named(String)
    }

    package struct Function: Sendable {
        package var name: String
        /// The parameters' JSON schema, as text (`{"type": "object"}` when absent).
        package var parameters: String
    }

    package var choice: Choice
    package var functions: [Function]
    package var parallelToolCalls: Bool

    /// The constraint `required` or a named choice puts on the output.
    package var constraint: StructuredOutputRequest? {
        switch choice {
        case .auto: return nil
        case .named(let name):
            let schema = functions.first { $0.name == name }!.parameters
            return StructuredOutputRequest(constraint: .jsonSchema(.init(text: schema), .init()), param: "tool_choice")
        case .required:
            let items = functions.map { f in
                #"{"properties": {"name": {"type": "string", "enum": \#(JSONWriter.quoted(f.name).wrappedInList)}, "parameters": \#(f.parameters)}, "required": ["name", "parameters"]}"#
            }
            let maxItems = parallelToolCalls ? "" : #", "maxItems": 1"#
            let schema = #"{"type": "array", "minItems": 1\#(maxItems), "items": {"type": "object", "anyOf": [\#(items.joined(separator: ", "))]}}"#
            return StructuredOutputRequest(constraint: .jsonSchema(.init(text: schema), .init()), param: "tool_choice")
        }
    }

    /// A parser for one choice's output.
    package func makeParser() -> any ToolCallParser {
        switch choice {
        case .auto(let parser): ToolCallParsers.make(parser)!
        case .required: RequiredToolCallParser()
        case .named(let name): NamedToolCallParser(name: name)
        }
    }

    /// The request's tool calling, or nil when it has none (no tools, or `tool_choice: "none"`).
    package static func parse(body: JSONValue, options: ToolCallingOptions) throws -> ToolRequest? {
        let tools = body["tools"].flatMap { $0.isNull ? nil : $0 }
        let choiceValue = body["tool_choice"].flatMap { $0.isNull ? nil : $0 }
        var functions: [Function] = []
        if let tools {
            guard let list = tools.arrayValue else { throw InputError("tools must be a list", param: "tools") }
            for (i, tool) in list.enumerated() {
                guard tool.objectValue != nil, tool["type"]?.stringValue == "function" else {
                    throw InputError("tools[\(i)] must be {\"type\": \"function\", \"function\": {...}}", param: "tools")
                }
                guard let function = tool["function"], function.objectValue != nil, let name = function["name"]?.stringValue, !name.isEmpty else {
                    throw InputError("tools[\(i)].function.name must be a non-empty string", param: "tools")
                }
                var parameters = #"{"type": "object"}"#
                if let p = function["parameters"], !p.isNull {
                    guard p.objectValue != nil else { throw InputError("tools[\(i)].function.parameters must be a JSON schema object", param: "tools") }
                    parameters = JSONWriter.serialize(p)
                }
                functions.append(Function(name: name, parameters: parameters))
            }
        }
        var parallel = true
        if let p = body["parallel_tool_calls"], !p.isNull {
            guard let b = p.boolValue else { throw InputError("parallel_tool_calls must be a boolean", param: "parallel_tool_calls") }
            parallel = b
        }
        let choice: Choice
        switch choiceValue {
        case nil:
            guard !functions.isEmpty else { return nil }
            choice = try auto(options)
        case .string("none")?: return nil
        case .string("auto")?:
            guard !functions.isEmpty else { return nil }
            choice = try auto(options)
        case .string("required")?:
            guard !functions.isEmpty else { throw InputError("When using `tool_choice`, `tools` must be set.", param: "tool_choice") }
            choice = .required
        case let value?:
            guard value.objectValue != nil, let name = value["function"]?["name"]?.stringValue else {
                throw InputError("tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", param: "tool_choice")
            }
            guard functions.contains(where: { $0.name == name }) else {
                throw InputError("Tool '\(name)' has not been passed in `tools`.", param: "tool_choice")
            }
            choice = .named(name)
        }
        return ToolRequest(choice: choice, functions: functions, parallelToolCalls: parallel)
    }

    private static func auto(_ options: ToolCallingOptions) throws -> Choice {
        guard options.enableAutoToolChoice, let parser = options.toolCallParser else {
            throw InputError("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set", param: "tool_choice")
        }
        guard ToolCallParsers.make(parser) != nil else {
            throw InputError("the server's tool call parser '\(parser)' is not one of \(ToolCallParsers.names.joined(separator: ", "))", param: "tool_choice")
        }
        return .auto(parser: parser)
    }
}

extension String {
    fileprivate var wrappedInList: String { "[" + self + "]" }
}
