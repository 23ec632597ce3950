/// The pre-tokenizers of the models Tram serves, by the names GGUF files give them in
/// `tokenizer.ggml.pre` (several llama.cpp names share one scanner).
package enum KnownPreTokenizer: String, CaseIterable, Sendable {
    /// GPT-2's regex.
    case gpt2
    /// Every digit isolated, then GPT-2's regex on the rest (SmolLM2; StarCoder and others).
    case smollm
    /// Llama 3's regex: digits in runs of up to three, case-insensitive contractions.
    case llama3
    /// Llama 3's regex with single digits (Qwen2, Qwen2.5).
    case qwen2

    /// The kind a GGUF `tokenizer.ggml.pre` value names, or nil when none does.
    package init?(ggufName: String) {
        switch ggufName {
        case "gpt2": self = .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva": self = .smollm
        case "llama-bpe", "llama3", "llama-v3": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        default: return nil
        }
    }

    var stage: any PreTokenizer {
        switch self {
        case .gpt2: GPT2Scanner()
        case .smollm: SequencePreTokenizer(stages: [DigitsPreTokenizer(individualDigits: true), GPT2Scanner()])
        case .llama3: Llama3Scanner(maximumDigits: 3)
        case .qwen2: Llama3Scanner(maximumDigits: 1)
        }
    }

    /// The pieces of `text`; they concatenate back to `text`.
    package func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        stage.split(scalars[...], startsText: true, into: &pieces)
        return pieces.map { String(String.UnicodeScalarView($0)) }
    }
}
