package import TramChat
package import TramModels

/// Which chat template a model's chat requests are rendered with, and why — decided once at
/// start-up, for the log and the input processor. In order:
///
/// 1. `--chat-template`, when given;
/// 2. the model's own (GGUF `tokenizer.chat_template`; a directory's `tokenizer_config.json`
///    or `chat_template.jinja`), unchanged for every file that carries one;
/// 3. Tram's built-in template for the model's architecture (`BuiltInChatTemplate`): a Gemma 3
///    GGUF from llama.cpp's converter carries none, and Gemma's format is fixed;
/// 4. none: chat requests are refused with a 400 naming the problem.
package struct ChatTemplateChoice: Sendable, Equatable {
    package enum Origin: Sendable, Equatable {
        case argument
        case model
        case builtIn(name: String)
    }

    /// The Jinja source, nil when there is none.
    package let source: String?
    package let origin: Origin?

    package init(argument: String?, model: LoadedModel) {
        if let argument {
            (source, origin) = (argument, .argument)
        } else if let own = model.chatTemplate {
            (source, origin) = (own, .model)
        } else if let builtIn = BuiltInChatTemplate.forArchitecture(model.architecture) {
            (source, origin) = (builtIn.source, .builtIn(name: builtIn.name))
        } else {
            (source, origin) = (nil, nil)
        }
    }

    /// One line for the start-up log.
    package func logLine(architecture: String) -> String {
        switch origin {
        case .argument: "chat template: --chat-template"
        case .model: "chat template: the model's own"
        case let .builtIn(name)?: "chat template: Tram's built-in \(name) (the model has none; chosen by its architecture, \(architecture))"
        case nil: "chat template: none"
        }
    }
}
