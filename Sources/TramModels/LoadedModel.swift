public import TramTokenizer

/// A model ready to serve: the network, its tokenizer, and the conventions that come with it
/// (chat template, end-of-sequence ids, sampling defaults from `generation_config.json`).
public struct LoadedModel: Sendable {
    public let model: any CausalLM
    public let tokenizer: Tokenizer
    /// Jinja source of the model's chat template, if it ships one.
    public let chatTemplate: String?
    /// Token ids that end generation: the tokenizer's EOS, GGUF's EOT, `config.json`'s and
    /// `generation_config.json`'s, and the architecture's end-of-turn tokens (Gemma's
    /// `<end_of_turn>`).
    public let eosTokenIDs: Set<Int>
    /// A short name (the alias, the file's or the directory's name).
    public let name: String
    public let path: String
    /// "gguf" or "safetensors".
    public let format: String
    /// The name the registry chose the architecture by: GGUF `general.architecture` ("llama",
    /// "gemma3"), or config.json's `architectures[0]`, else its `model_type`.
    public let architecture: String
    /// Sampling defaults from `generation_config.json` (HF directories only).
    public let generationDefaults: GenerationDefaults
}

/// Sampling defaults a model ships in `generation_config.json`.
public struct GenerationDefaults: Sendable, Equatable {
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var repetitionPenalty: Double?
    public var minP: Double?
    /// Caps `max_tokens` (`max_new_tokens`).
    public var maxNewTokens: Int?

    public init(temperature: Double? = nil, topP: Double? = nil, topK: Int? = nil, repetitionPenalty: Double? = nil,
                minP: Double? = nil, maxNewTokens: Int? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.repetitionPenalty = repetitionPenalty
        self.minP = minP
        self.maxNewTokens = maxNewTokens
    }

    /// Whether the model sets any default.
    public var isEmpty: Bool { self == GenerationDefaults() }
}
