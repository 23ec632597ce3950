import TramFormats

/// Architectures Tram can run, keyed by the names files use: GGUF `general.architecture` and
/// Hugging Face `architectures[0]` / `model_type`. Adding an architecture is adding rows here.
public enum ModelRegistry {
    struct Entry: Sendable {
        var loadGGUF: @Sendable (GGUFFile, String, LoadOptions) throws(ModelError) -> any CausalLM
        var loadHF: @Sendable (_ config: LlamaConfiguration, SafetensorsCheckpoint, LoadOptions) throws(ModelError) -> any CausalLM
    }

    static let llama = Entry(
        loadGGUF: { file, arch, options throws(ModelError) in
            let config = try LlamaConfiguration(gguf: file, architecture: arch)
            return try LlamaModel(configuration: config, source: GGUFWeightSource(file: file), options: options)
        },
        loadHF: { config, checkpoint, options throws(ModelError) in
            try LlamaModel(configuration: config, source: SafetensorsWeightSource(checkpoint: checkpoint), options: options)
        }
    )

    static let entries: [String: Entry] = [
        "llama": llama, "LlamaForCausalLM": llama,
        "mistral": llama, "MistralForCausalLM": llama,
        "qwen2": llama, "Qwen2ForCausalLM": llama,
    ]

    public static var supportedNames: [String] { entries.keys.sorted() }

    static func entry(_ name: String, path: String) throws(ModelError) -> Entry {
        guard let e = entries[name] else { throw .unsupportedArchitecture(name, path: path) }
        return e
    }
}
