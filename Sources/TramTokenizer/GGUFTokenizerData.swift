/// The tokenizer as a GGUF file describes it, in `tokenizer.ggml.*` metadata values.
///
/// Exists so that the GGUF reader (TramFormats) and the tokenizer stay independent: the reader
/// copies these values out, `Tokenizer(gguf:)` validates them.
public struct GGUFTokenizerData: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece-style BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer of a "gpt2" model, e.g. "smollm", "llama-bpe", "qwen2".
    public var pre: String?
    /// `tokenizer.ggml.tokens`, indexed by id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte.
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: "left right", highest priority first.
    public var merges: [String]?
    /// `tokenizer.ggml.scores`: SentencePiece piece scores, higher merges first.
    public var scores: [Float]?
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    public var unknownTokenID: Int?
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token`; when absent, true for "llama" models and Llama 3.
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token`; when absent, false.
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix`; when absent, true for "llama" models.
    public var addSpacePrefix: Bool?

    public init(
        model: String, pre: String?, tokens: [String], tokenTypes: [Int32]? = nil, merges: [String]? = nil,
        scores: [Float]? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil, unknownTokenID: Int? = nil,
        paddingTokenID: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil
    ) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}

/// GGUF token types (`tokenizer.ggml.token_type`).
enum GGUFTokenType {
    static let normal: Int32 = 1
    static let unknown: Int32 = 2
    static let control: Int32 = 3
    static let userDefined: Int32 = 4
    static let unused: Int32 = 5
    static let byte: Int32 = 6
}
