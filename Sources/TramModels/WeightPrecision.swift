/// Which precision weights are computed in.
public enum WeightPrecision: Sendable, Equatable {
    /// As stored: quantized matrices multiply int8-quantized activations, float ones f32.
    case native
    /// Every matrix dequantized to f32 at load, activations stay f32 (a reference path for tests).
    case float32
    /// `--quantization int8`: float linear weights (attention q/k/v/o, MLP gate/up/down and the LM
    /// head, also when it is the tied embedding) quantized to Q8_0 at load, so the Q8_0 kernels
    /// run them. Norms and the embedding lookup table stay as stored: a lookup reads one row per
    /// token, so quantizing the table would only round the model's input, not speed anything up
    /// (vLLM's online quantization likewise leaves embeddings alone). A model whose linear weights
    /// are already quantized is refused (`ModelError.quantizationConflict`), as vLLM refuses a
    /// `--quantization` that contradicts the checkpoint's.
    case int8

    /// The values `--quantization` accepts, as vLLM spells them.
    public static let quantizationNames = ["int8", "none"]

    /// Parses `--quantization`: absent or `none` keeps weights as stored, `int8` quantizes float
    /// weights to Q8_0 at load; anything else throws `ModelError.unsupportedQuantization`.
    public init(quantization: String?) throws(ModelError) {
        switch quantization {
        case nil, "none": self = .native
        case "int8": self = .int8
        case let other?: throw .unsupportedQuantization(other)
        }
    }
}
