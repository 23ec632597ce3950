/// Why a conversation could not be rendered.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The model has no chat template and none was given.
    case missing
    /// The template is not one this renderer understands yet.
    case unsupported(String)

    public var description: String {
        switch self {
        case .missing: "the model has no chat template; pass one or use raw prompts"
        case let .unsupported(reason): "unsupported chat template: \(reason)"
        }
    }
}

/// Renders a conversation into the prompt text a model was trained on.
///
/// This renderer covers the ChatML family (`<|im_start|>role\ncontent<|im_end|>\n`), including
/// the SmolLM2 variant that inserts a default system message when the conversation has none:
///
///     {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are …<|im_end|>\n' }}{% endif %}
///
/// It recognises the template from its source rather than interpreting it; templates it does
/// not recognise are refused with an error instead of being rendered wrongly. A Jinja
/// interpreter (TramTemplate) replaces this when templates beyond ChatML are needed.
public struct ChatTemplate: Sendable {
    public let source: String
    /// The system message inserted when a conversation starts without one, if the template does.
    public let defaultSystemMessage: String?

    public init(source: String) throws(ChatTemplateError) {
        self.source = source
        // Spaces are insignificant between Jinja tokens; newlines are not (the role is followed by
        // a newline string literal, written either as a real newline or as `\n`).
        let compact = source.filter { $0 != " " && $0 != "\t" }
        guard source.contains("<|im_start|>"), source.contains("<|im_end|>"),
            compact.contains("'<|im_start|>'+message['role']+'\\n'+message['content']+'<|im_end|>'")
                || compact.contains("'<|im_start|>'+message['role']+'\n'+message['content']+'<|im_end|>'")
        else { throw .unsupported("only ChatML templates are rendered until the Jinja engine lands") }
        guard !source.contains("tools"), !source.contains("macro") else {
            throw .unsupported("ChatML templates with tools or macros need the Jinja engine")
        }
        if compact.contains("messages[0]['role']!='system'") {
            let marker = "'<|im_start|>system\n"
            guard let start = source.firstRange(of: marker),
                let end = source[start.upperBound...].firstRange(of: "<|im_end|>")
            else { throw .unsupported("default system message not found") }
            defaultSystemMessage = String(source[start.upperBound..<end.lowerBound])
        } else {
            defaultSystemMessage = nil
        }
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        if let system = defaultSystemMessage, let first = messages.first, first.role != "system" {
            out += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for m in messages {
            out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }
}
