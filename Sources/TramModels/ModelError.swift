public import TramFormats

/// Why a model could not be resolved or loaded.
public enum ModelError: Error, CustomStringConvertible {
    /// The file or directory is malformed (the underlying error names file, key or tensor).
    case format(FormatError)
    /// No architecture in the registry handles this model.
    case unsupportedArchitecture(String, path: String)
    /// The model's hyper-parameters are inconsistent or out of range.
    case invalidConfiguration(path: String, reason: String)
    /// The model argument is neither a GGUF file, a model directory nor a known alias.
    case notFound(String)
    /// Fetching a model alias failed (pip missing, no network, …).
    case fetchFailed(alias: String, reason: String)
    /// A forward batch refers to tokens, positions or KV slots that do not exist.
    case invalidBatch(String)
    /// The tokenizer could not be built.
    case tokenizer(path: String, reason: String)
    /// A `--quantization` value Tram does not know.
    case unsupportedQuantization(String)
    /// `--quantization` asked to quantize a model whose linear weights are already quantized
    /// (`found` lists their types, e.g. ["q4_1"]).
    case quantizationConflict(path: String, requested: String, found: [String])

    public var description: String {
        switch self {
        case let .format(e): e.description
        case let .unsupportedArchitecture(name, path): "\(path): unsupported architecture '\(name)' (supported: \(ModelRegistry.supportedNames.joined(separator: ", ")))"
        case let .invalidConfiguration(path, reason): "\(path): invalid model configuration: \(reason)"
        case let .notFound(arg):
            "model '\(arg)' not found: give a .gguf file, a Hugging Face-style directory (config.json + *.safetensors), or the alias \(ModelResolver.defaultAlias)"
        case let .fetchFailed(alias, reason): "could not fetch model '\(alias)': \(reason)"
        case let .invalidBatch(reason): "invalid forward batch: \(reason)"
        case let .tokenizer(path, reason): "\(path): cannot build tokenizer: \(reason)"
        case let .unsupportedQuantization(value):
            "unsupported quantization '\(value)' (accepted: \(WeightPrecision.quantizationNames.joined(separator: ", ")))"
        case let .quantizationConflict(path, requested, found):
            "\(path): cannot apply \(requested) quantization: the model's linear weights are already quantized (\(found.joined(separator: ", "))); load it without --quantization to run it as stored"
        }
    }
}
