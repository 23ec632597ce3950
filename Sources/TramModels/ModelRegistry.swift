import Foundation
import TramFormats

/// Architectures Tram can run, keyed by the names files use: GGUF `general.architecture` and
/// Hugging Face `architectures[0]` / `model_type`. Adding an architecture is adding rows here.
/// Each entry reads its own configuration (GGUF metadata, or the raw `config.json`), so an
/// architecture whose configuration differs from Llama's (Gemma 3) brings its own type.
public enum ModelRegistry {
    struct Entry: Sendable {
        /// Builds the model from a GGUF file of architecture `arch`.
        var loadGGUF: @Sendable (_ file: GGUFFile, _ arch: String, LoadOptions) throws(ModelError) -> any CausalLM
        /// Builds the model from `config.json` (its bytes and path, for errors) and the weights.
        var loadHF: @Sendable (_ config: Data, _ configPath: String, SafetensorsCheckpoint, LoadOptions) throws(ModelError) -> any CausalLM
        /// Texts of tokens that end a turn as EOS does, for files that do not say so: Gemma's
        /// chat turns end with `<end_of_turn>` (id 106), which a Gemma 3 GGUF names neither as
        /// EOS (`<eos>`, id 1) nor as EOT. llama.cpp finds such tokens by their text
        /// (`special_eog_ids`); here each architecture lists its own, so other models' stop sets
        /// stay as their files give them.
        var endOfTurnTokens: [String] = []
    }

    static let llama = Entry(
        loadGGUF: { file, arch, options throws(ModelError) in
            let config = try LlamaConfiguration(gguf: file, architecture: arch)
            return try LlamaModel(configuration: config, source: GGUFWeightSource(file: file), options: options)
        },
        loadHF: { data, configPath, checkpoint, options throws(ModelError) in
            let config = try LlamaConfiguration(configJSON: data, path: configPath)
            return try LlamaModel(configuration: config, source: SafetensorsWeightSource(checkpoint: checkpoint), options: options)
        }
    )

    /// Gemma 3 text models. GGUF norms already hold 1 + w (llama.cpp's converter adds it);
    /// Hugging Face's hold w.
    static let gemma3 = Entry(
        loadGGUF: { file, arch, options throws(ModelError) in
            let config = try Gemma3Configuration(gguf: file, architecture: arch)
            return try Gemma3Model(configuration: config, source: GGUFWeightSource(file: file), norms: .includingOne, options: options)
        },
        loadHF: { data, configPath, checkpoint, options throws(ModelError) in
            let config = try Gemma3Configuration(configJSON: data, path: configPath)
            return try Gemma3Model(configuration: config, source: SafetensorsWeightSource(checkpoint: checkpoint), norms: .raw, options: options)
        },
        endOfTurnTokens: ["<end_of_turn>"]
    )

    static let entries: [String: Entry] = [
        "llama": llama, "LlamaForCausalLM": llama,
        "mistral": llama, "MistralForCausalLM": llama,
        "qwen2": llama, "Qwen2ForCausalLM": llama,
        "gemma3": gemma3, "Gemma3ForCausalLM": gemma3, "gemma3_text": gemma3,
    ]

    public static var supportedNames: [String] { entries.keys.sorted() }

    static func entry(_ name: String, path: String) throws(ModelError) -> Entry {
        guard let e = entries[name] else { throw .unsupportedArchitecture(name, path: path) }
        return e
    }
}
