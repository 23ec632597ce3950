/// Chat templates Tram carries for architectures whose model files often come without one,
/// chosen by the architecture's name when the model has no template of its own (the input
/// processor's `ChatTemplateChoice` decides; a model's own template and `--chat-template` win).
///
/// The case in point: llama.cpp's converter writes no `tokenizer.chat_template` into a Gemma 3
/// GGUF, so without this every chat request to it would be refused, while the model was trained
/// on one fixed format (`<start_of_turn>user … <end_of_turn>`).
///
/// The sources are Swift strings rather than bundle resources: a `tram` binary copied on its own
/// must still find them (a missing resource bundle would stop the process at the first use).
public struct BuiltInChatTemplate: Sendable, Equatable {
    /// A short name for logs, "gemma-3".
    public let name: String
    /// The Jinja source, exactly as the model's publisher ships it.
    public let source: String

    /// The built-in template for an architecture name (GGUF `general.architecture`, or a
    /// config.json's `architectures[0]` / `model_type`), if Tram has one.
    public static func forArchitecture(_ architecture: String) -> BuiltInChatTemplate? {
        byArchitecture[architecture]
    }

    static let byArchitecture: [String: BuiltInChatTemplate] = [
        "gemma3": .gemma3, "Gemma3ForCausalLM": .gemma3, "gemma3_text": .gemma3,
    ]
}
