public import Foundation
import TramTemplate

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
        var context: [String: Value] = [
            "messages": .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
            "add_generation_prompt": .bool(addGenerationPrompt),
        ]
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        do {
            return try template.render(context, now: now)
        } catch {
            throw .render(error.description)
        }
    }
}
