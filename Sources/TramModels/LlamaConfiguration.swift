public import Foundation
public import TramFormats
public import TramKernels

/// Hyper-parameters of a Llama-family decoder (Llama 2/3, SmolLM, Mistral, Qwen2), read from a
/// GGUF file's metadata or a Hugging Face `config.json`. Nothing is assumed: every value the
/// forward pass uses comes from the file.
public struct LlamaConfiguration: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// Qwen2 has biases on q/k/v projections.
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var ropeStyle: RopeStyle

    /// Llama 3.1's frequency-dependent RoPE scaling (`rope_scaling.rope_type == "llama3"`).
    public struct RopeScaling: Sendable, Equatable {
        public var factor: Double
        public var lowFreqFactor: Double
        public var highFreqFactor: Double
        public var originalMaxPositionEmbeddings: Int
    }

    /// Inverse frequencies per rotary pair, with Llama 3 scaling applied when configured.
    public func inverseFrequencies() -> [Double] {
        let base = RopeTable.inverseFrequencies(theta: ropeTheta, rotaryDim: headDim)
        guard let s = ropeScaling else { return base }
        let old = Double(s.originalMaxPositionEmbeddings)
        let lowWavelen = old / s.lowFreqFactor
        let highWavelen = old / s.highFreqFactor
        return base.map { freq in
            let wavelen = 2 * Double.pi / freq
            if wavelen < highWavelen { return freq }
            if wavelen > lowWavelen { return freq / s.factor }
            let smooth = (old / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
            return (1 - smooth) * freq / s.factor + smooth * freq
        }
    }

    func validate(path: String) throws(ModelError) {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(path: path, reason: reason) }
        guard hiddenSize > 0, intermediateSize > 0, numLayers > 0, vocabSize > 0, maxPositionEmbeddings > 0 else {
            throw fail("sizes must be positive")
        }
        guard numHeads > 0, numKVHeads > 0 else {
            throw fail("attention head counts must be positive, got \(numHeads) heads and \(numKVHeads) KV heads")
        }
        guard numHeads % numKVHeads == 0 else {
            throw fail("\(numHeads) attention heads are not a multiple of \(numKVHeads) KV heads")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw fail("head dimension \(headDim) must be even") }
        guard rmsNormEps > 0, ropeTheta > 0 else { throw fail("rms_norm_eps and rope_theta must be positive") }
    }
}

extension LlamaConfiguration {
    /// Reads `<arch>.*` keys of a GGUF file (`llama.embedding_length`, …).
    package init(gguf: GGUFFile, architecture arch: String) throws(ModelError) {
        do {
            let hidden = try gguf.int("\(arch).embedding_length")
            let heads = try gguf.int("\(arch).attention.head_count")
            let vocab: Int
            if let v = try gguf.optionalInt("\(arch).vocab_size") {
                vocab = v
            } else if let tokens = gguf.value("tokenizer.ggml.tokens")?.arrayValue {
                vocab = tokens.count
            } else {
                throw FormatError.missingKey(path: gguf.path, key: "\(arch).vocab_size")
            }
            let headDim = try gguf.optionalInt("\(arch).attention.key_length") ?? hidden / max(heads, 1)
            self.init(
                hiddenSize: hidden,
                intermediateSize: try gguf.int("\(arch).feed_forward_length"),
                numLayers: try gguf.int("\(arch).block_count"),
                numHeads: heads,
                numKVHeads: try gguf.optionalInt("\(arch).attention.head_count_kv") ?? heads,
                headDim: headDim,
                vocabSize: vocab,
                rmsNormEps: Float(try gguf.double("\(arch).attention.layer_norm_rms_epsilon")),
                ropeTheta: try gguf.optionalDouble("\(arch).rope.freq_base") ?? 10_000,
                ropeScaling: nil,
                maxPositionEmbeddings: try gguf.optionalInt("\(arch).context_length") ?? 2048,
                tieWordEmbeddings: gguf.tensor(named: "output.weight") == nil,
                attentionBias: gguf.tensor(named: "blk.0.attn_q.bias") != nil,
                mlpBias: false,
                ropeStyle: arch == "qwen2" ? .halves : .adjacentPairs
            )
        } catch let e as FormatError {
            throw .format(e)
        } catch {
            throw .invalidConfiguration(path: gguf.path, reason: "\(error)")
        }
        // Sizes first: with head_count 0 the derived head dimension is meaningless, and the
        // rotary check below would blame partial rotary embeddings.
        try validate(path: gguf.path)
        if let dims = try? gguf.optionalInt("\(arch).rope.dimension_count"), dims != headDim {
            throw .invalidConfiguration(path: gguf.path, reason: "partial rotary embeddings (\(dims) of \(headDim)) are not supported")
        }
    }

    /// Decodes a Hugging Face `config.json` of the Llama family.
    package init(configJSON data: Data, path: String) throws(ModelError) {
        let raw: HFConfig
        do {
            raw = try JSONDecoder().decode(HFConfig.self, from: data)
        } catch {
            throw .invalidConfiguration(path: path, reason: "config.json: \(error)")
        }
        let heads = raw.num_attention_heads
        var scaling: RopeScaling?
        if let s = raw.rope_scaling {
            let type = s.rope_type ?? s.type ?? "default"
            switch type {
            case "llama3":
                guard let factor = s.factor, let low = s.low_freq_factor, let high = s.high_freq_factor,
                    let original = s.original_max_position_embeddings, high > low
                else { throw .invalidConfiguration(path: path, reason: "rope_scaling of type llama3 lacks a field") }
                scaling = RopeScaling(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: original)
            case "default":
                scaling = nil
            default:
                throw .invalidConfiguration(path: path, reason: "rope_scaling type '\(type)' is not supported")
            }
        }
        let qwen2 = raw.model_type == "qwen2"
        self.init(
            hiddenSize: raw.hidden_size,
            intermediateSize: raw.intermediate_size,
            numLayers: raw.num_hidden_layers,
            numHeads: heads,
            numKVHeads: raw.num_key_value_heads ?? heads,
            headDim: raw.head_dim ?? raw.hidden_size / max(heads, 1),
            vocabSize: raw.vocab_size,
            rmsNormEps: Float(raw.rms_norm_eps ?? 1e-6),
            ropeTheta: raw.rope_theta ?? 10_000,
            ropeScaling: scaling,
            maxPositionEmbeddings: raw.max_position_embeddings ?? 2048,
            tieWordEmbeddings: raw.tie_word_embeddings ?? false,
            attentionBias: raw.attention_bias ?? qwen2,
            mlpBias: raw.mlp_bias ?? false,
            ropeStyle: .halves
        )
        try validate(path: path)
    }
}

/// The subset of `config.json` the Llama family uses. Unknown keys are ignored.
struct HFConfig: Decodable {
    var architectures: [String]?
    var model_type: String?
    var hidden_size: Int
    var intermediate_size: Int
    var num_hidden_layers: Int
    var num_attention_heads: Int
    var num_key_value_heads: Int?
    var head_dim: Int?
    var vocab_size: Int
    var rms_norm_eps: Double?
    var rope_theta: Double?
    var rope_scaling: RopeScalingJSON?
    var max_position_embeddings: Int?
    var tie_word_embeddings: Bool?
    var attention_bias: Bool?
    var mlp_bias: Bool?
    var bos_token_id: IntOrList?
    var eos_token_id: IntOrList?

    struct RopeScalingJSON: Decodable {
        var rope_type: String?
        var type: String?
        var factor: Double?
        var low_freq_factor: Double?
        var high_freq_factor: Double?
        var original_max_position_embeddings: Int?
    }
}

/// `eos_token_id` is an int in some configs and a list in others (Llama 3.1).
struct IntOrList: Decodable {
    var values: [Int]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) {
            values = [v]
        } else {
            values = try c.decode([Int].self)
        }
    }
}
