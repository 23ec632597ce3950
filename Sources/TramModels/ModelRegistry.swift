import Foundation
import TramFormats

/// Architectures Tram can run, keyed by the names files use: GGUF `general.architecture` and
/// Hugging Face `architectures[0]` / `model_type`. Adding an architecture is adding rows here.
/// Each entry reads its own configuration (GGUF metadata, or the raw `config.json`), so an
/// architecture whose configuration differs from Llama's (Gemma 3, say) brings its own type.
public enum ModelRegistry {
    struct Entry: Sendable {
        /// Builds the model from a GGUF file of architecture `arch`.
        var loadGGUF: @Sendable (_ file: GGUFFile, _ arch: String, LoadOptions) throws(ModelError) -> any CausalLM
        /// Builds the model from `config.json` (its bytes and path, for errors) and the weights.
        var loadHF: @Sendable (_ config: Data, _ configPath: String, SafetensorsCheckpoint, LoadOptions) throws(ModelError) -> any CausalLM
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
