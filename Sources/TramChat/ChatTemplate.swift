public import Foundation
public import TramTemplate

/// Why a conversation could not be rendered.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The model has no chat template and none was given.
    case missing
    /// The template's source is not valid Jinja.
    case invalid(String)
    /// Rendering failed, or the template raised (`raise_exception`), e.g. on a bad role order.
    case render(String)

    public var description: String {
        switch self {
        case .missing: "the model has no chat template; pass one or use raw prompts"
        case let .invalid(m): "invalid chat template: \(m)"
        case let .render(m): m
        }
    }
}

/// Renders a conversation into the prompt text a model was trained on, by running the model's
/// own Jinja chat template (TramTemplate) with the variables Hugging Face passes:
/// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`.
public struct ChatTemplate: Sendable {
    public let source: String
    public let bosToken: String?
    public let eosToken: String?
    private let template: Template

    public init(source: String, bosToken: String? = nil, eosToken: String? = nil) throws(ChatTemplateError) {
        guard !source.isEmpty else { throw .invalid("the template is empty") }
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
        do {
            template = try Template(source)
        } catch {
            throw .invalid(error.description)
        }
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, now: Date = Date()) throws(ChatTemplateError) -> String {
        let conversation = Value.array(messages.map { ["role": .string($0.role), "content": .string($0.content)] })
        return try render(conversation: conversation, addGenerationPrompt: addGenerationPrompt, now: now)
    }

    /// Renders messages given as template values (so every field a client sent, such as
    /// `tool_calls` or `name`, reaches the template), as Hugging Face's `apply_chat_template` does.
    /// - Parameters:
    ///   - variables: extra template variables (vLLM's `chat_template_kwargs`, `tools`); they may
    ///     override `bos_token`/`eos_token` but not `messages` or `add_generation_prompt`.
    ///   - continueFinalMessage: end the prompt inside the last message, so the model continues
    ///     it (for prefilling an assistant answer), cutting what the template appends after it.
    public func render(
        conversation messages: Value, addGenerationPrompt: Bool, continueFinalMessage: Bool = false,
        variables: [String: Value] = [:], now: Date = Date()
    ) throws(ChatTemplateError) -> String {
        var context: [String: Value] = [:]
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        context.merge(variables) { _, new in new }
        context["messages"] = messages
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        let rendered: String
        do {
            rendered = try template.render(context, now: now)
        } catch {
            throw .render(error.description)
        }
        return continueFinalMessage ? try Self.cutAfterFinalMessage(rendered, messages: messages) : rendered
    }

    /// Hugging Face's `continue_final_message`: keep the rendered text up to the end of the last
    /// message's content (its last text part when the content is a list of parts).
    static func cutAfterFinalMessage(_ rendered: String, messages: Value) throws(ChatTemplateError) -> String {
        guard case let .array(list) = messages, case let .object(last)? = list.last else {
            throw .render("continue_final_message needs at least one message")
        }
        var final: String?
        switch last["content"] {
        case let .string(s)?: final = s
        case let .array(parts)?:
            for case let .object(part) in parts.reversed() {
                if case let .string(text)? = part["text"] { final = text; break }
            }
        default: break
        }
        guard let final else { throw .render("continue_final_message is set but the final message has no text content") }
        let stripped = final.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let found = rendered.range(of: stripped, options: [.literal, .backwards]) else {
            throw .render("continue_final_message is set but the final message does not appear in the chat after applying the chat template")
        }
        let start = found.lowerBound
        let leftTrimmed = String(final.drop { $0.isWhitespace })
        // When the template kept the message's trailing spacing, keep it; otherwise cut at the stripped text.
        if rendered[start...].hasPrefix(leftTrimmed) {
            return String(rendered[..<rendered.index(start, offsetBy: leftTrimmed.count)])
        }
        return String(rendered[..<found.upperBound])
    }
}
