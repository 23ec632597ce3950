/// A token matched verbatim in the input before any other stage runs: chat markers such as
/// "<|im_start|>" (tokenizer.json `added_tokens`; GGUF control and user-defined tokens).
struct AddedToken: Sendable {
    var content: [Unicode.Scalar]
    var id: Int32
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    var special: Bool
    /// Absorb whitespace before the token (tokenizer.json `lstrip`).
    var lstrip: Bool = false
    /// Absorb whitespace after the token (tokenizer.json `rstrip`).
    var rstrip: Bool = false
}
