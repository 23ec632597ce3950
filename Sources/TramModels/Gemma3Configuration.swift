public import Foundation
public import TramFormats
import TramKernels

/// Hyper-parameters of a Gemma 3 text decoder (GGUF `general.architecture` "gemma3", Hugging Face
/// `Gemma3ForCausalLM` / `model_type` "gemma3_text"), read from GGUF metadata or `config.json`.
///
/// What differs from Llama, and where each value comes from:
///
/// | value | GGUF (llama.cpp) | config.json (transformers) |
/// | --- | --- | --- |
/// | local/global layers | `gemma3.attention.sliding_window_pattern`: a period n (layer i global iff i % n == n − 1) or one bool per layer (true = local); absent: 6 | `layer_types`, else `sliding_window_pattern` (layer i global iff (i + 1) % n == 0; 6) |
/// | sliding window | `gemma3.attention.sliding_window` (absent or 0: every layer global) | `sliding_window` |
/// | RoPE base, global layers | `gemma3.rope.freq_base` | `rope_parameters.full_attention.rope_theta`, else `rope_theta` |
/// | RoPE base, local layers | `gemma3.rope.freq_base_swa`, else 10 000 | `rope_parameters.sliding_attention.rope_theta`, else `rope_local_base_freq` |
/// | linear RoPE scaling (global layers only) | `gemma3.rope.scaling.type` "linear" + `.factor` | `rope_scaling` / `rope_parameters.full_attention` with `rope_type` "linear" |
/// | query scale | 1/√key_length, except 1/√(embedding/heads) for the 62-layer 27B (llama.cpp, after gemma_pytorch: GGUF has no key for it) | `query_pre_attn_scalar`^−½ |
/// | final logit softcapping | `gemma3.final_logit_softcapping` (Gemma 3 has none) | `final_logit_softcapping` |
///
/// Both readers agree on the pattern: with period 6, layers 5, 11, 17, … are global.
public struct Gemma3Configuration: Sendable, Equatable {
    /// How a layer attends: to every earlier token, or to the last `slidingWindow` only.
    public enum LayerKind: String, Sendable, Equatable {
        case global = "full_attention"
        case local = "sliding_attention"
    }

    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var rmsNormEps: Float
    /// RoPE base of the global layers.
    public var ropeTheta: Double
    /// RoPE base of the local (sliding-window) layers.
    public var localRopeTheta: Double
    /// Linear RoPE scaling of the global layers (positions divided by it; 4B–27B use 8), or nil.
    public var ropeScalingFactor: Double?
    /// Keys a local layer's query sees, itself included (512 for 270M).
    public var slidingWindow: Int
    public var layerKinds: [LayerKind]  // [numLayers]
    /// q·k is scaled by `queryPreAttnScalar`^−½.
    public var queryPreAttnScalar: Double
    public var maxPositionEmbeddings: Int
    /// logits ← cap · tanh(logits / cap) when set (Gemma 2 had it; Gemma 3 has none).
    public var finalLogitSoftcapping: Float?
    public var tieWordEmbeddings: Bool

    /// The layout llama.cpp and transformers both use: every `period`-th layer global, the rest local.
    public static func layerKinds(count: Int, period: Int) -> [LayerKind] {
        (0..<count).map { period > 0 && ($0 + 1) % period == 0 ? .global : .local }
    }

    /// Inverse frequencies per rotary pair for layers of `kind`.
    public func inverseFrequencies(_ kind: LayerKind) -> [Double] {
        switch kind {
        case .local:
            return RopeTable.inverseFrequencies(theta: localRopeTheta, rotaryDim: headDim)
        case .global:
            let base = RopeTable.inverseFrequencies(theta: ropeTheta, rotaryDim: headDim)
            guard let factor = ropeScalingFactor else { return base }
            return base.map { $0 / factor }
        }
    }

    /// The spelling of each value in one format, so an error names the key the file uses.
    struct FieldNames {
        var hiddenSize, intermediateSize, numLayers, numHeads, numKVHeads, headDim, vocabSize, rmsNormEps: String
        var ropeTheta, localRopeTheta, ropeScaling, slidingWindow, layerKinds, queryPreAttnScalar: String
        var maxPositionEmbeddings, finalLogitSoftcapping: String

        static func gguf(_ arch: String) -> FieldNames {
            FieldNames(
                hiddenSize: "\(arch).embedding_length", intermediateSize: "\(arch).feed_forward_length", numLayers: "\(arch).block_count",
                numHeads: "\(arch).attention.head_count", numKVHeads: "\(arch).attention.head_count_kv",
                headDim: "\(arch).attention.key_length", vocabSize: "\(arch).vocab_size",
                rmsNormEps: "\(arch).attention.layer_norm_rms_epsilon", ropeTheta: "\(arch).rope.freq_base",
                localRopeTheta: "\(arch).rope.freq_base_swa", ropeScaling: "\(arch).rope.scaling.factor",
                slidingWindow: "\(arch).attention.sliding_window", layerKinds: "\(arch).attention.sliding_window_pattern",
                queryPreAttnScalar: "\(arch).attention.key_length", maxPositionEmbeddings: "\(arch).context_length",
                finalLogitSoftcapping: "\(arch).final_logit_softcapping")
        }

        static let huggingFace = FieldNames(
            hiddenSize: "hidden_size", intermediateSize: "intermediate_size", numLayers: "num_hidden_layers",
            numHeads: "num_attention_heads", numKVHeads: "num_key_value_heads", headDim: "head_dim", vocabSize: "vocab_size",
            rmsNormEps: "rms_norm_eps", ropeTheta: "rope_theta", localRopeTheta: "rope_local_base_freq", ropeScaling: "rope_scaling.factor",
            slidingWindow: "sliding_window", layerKinds: "layer_types", queryPreAttnScalar: "query_pre_attn_scalar",
            maxPositionEmbeddings: "max_position_embeddings", finalLogitSoftcapping: "final_logit_softcapping")
    }

    /// The most positions Tram builds RoPE tables for (8× Gemma 3's 128K context): a file
    /// claiming more is refused rather than allowed to exhaust memory.
    static let maxSupportedPositions = 1 << 20

    func validate(path: String, names n: FieldNames) throws(ModelError) {
        func fail(_ field: String, _ reason: String) -> ModelError { .invalidConfiguration(path: path, reason: "\(field) \(reason)") }
        for (field, value) in [(n.hiddenSize, hiddenSize), (n.intermediateSize, intermediateSize), (n.numLayers, numLayers),
                               (n.vocabSize, vocabSize), (n.maxPositionEmbeddings, maxPositionEmbeddings),
                               (n.numHeads, numHeads), (n.numKVHeads, numKVHeads)] where value <= 0 {
            throw fail(field, "must be positive, got \(value)")
        }
        guard numHeads % numKVHeads == 0 else {
            throw fail(n.numHeads, "(\(numHeads)) is not a multiple of \(n.numKVHeads) (\(numKVHeads))")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw fail(n.headDim, "must be positive and even, got \(headDim)") }
        guard rmsNormEps > 0, rmsNormEps.isFinite else { throw fail(n.rmsNormEps, "must be positive, got \(rmsNormEps)") }
        guard ropeTheta > 0, ropeTheta.isFinite else { throw fail(n.ropeTheta, "must be positive, got \(ropeTheta)") }
        guard localRopeTheta > 0, localRopeTheta.isFinite else { throw fail(n.localRopeTheta, "must be positive, got \(localRopeTheta)") }
        if let f = ropeScalingFactor, !(f > 0 && f.isFinite) { throw fail(n.ropeScaling, "must be positive, got \(f)") }
        guard layerKinds.count == numLayers else {
            throw fail(n.layerKinds, "gives \(layerKinds.count) layer kinds for \(numLayers) layers")
        }
        if layerKinds.contains(.local), slidingWindow < 1 {
            throw fail(n.slidingWindow, "must be at least 1 when layers slide, got \(slidingWindow)")
        }
        guard queryPreAttnScalar > 0, queryPreAttnScalar.isFinite else {
            throw fail(n.queryPreAttnScalar, "must be positive, got \(queryPreAttnScalar)")
        }
        if let cap = finalLogitSoftcapping, !(cap > 0 && cap.isFinite) { throw fail(n.finalLogitSoftcapping, "must be positive, got \(cap)") }
        guard maxPositionEmbeddings <= Self.maxSupportedPositions else {
            throw fail(n.maxPositionEmbeddings, "\(maxPositionEmbeddings) is more than the \(Self.maxSupportedPositions) positions Tram supports")
        }
    }
}

extension Gemma3Configuration {
    /// Reads the `gemma3.*` keys of a GGUF file as llama.cpp does (`llama_model_gemma3::load_arch_hparams`).
    package init(gguf: GGUFFile, architecture arch: String = "gemma3") throws(ModelError) {
        let names = FieldNames.gguf(arch)
        do {
            let hidden = try gguf.int(names.hiddenSize)
            let heads = try gguf.int(names.numHeads)
            let layers = try gguf.int(names.numLayers)
            // Checked before the per-layer kinds below are built from it.
            guard layers > 0 else { throw ModelError.invalidConfiguration(path: gguf.path, reason: "\(names.numLayers) must be positive, got \(layers)") }
            let vocab: Int
            if let v = try gguf.optionalInt(names.vocabSize) {
                vocab = v
            } else if let tokens = gguf.value("tokenizer.ggml.tokens")?.arrayValue {
                vocab = tokens.count
            } else {
                throw FormatError.missingKey(path: gguf.path, key: names.vocabSize)
            }
            let headDim = try gguf.optionalInt(names.headDim) ?? hidden / max(heads, 1)
            if let v = try gguf.optionalInt("\(arch).attention.value_length"), v != headDim {
                throw ModelError.invalidConfiguration(path: gguf.path, reason: "\(arch).attention.value_length \(v) differs from \(names.headDim) \(headDim)")
            }
            // Sliding window: absent or 0 makes every layer global (llama.cpp's LLAMA_SWA_TYPE_NONE).
            let window = try gguf.optionalInt(names.slidingWindow) ?? 0
            var kinds = [LayerKind](repeating: .global, count: layers)
            if window > 0 {
                switch gguf.value(names.layerKinds) {
                case let .array(flags)?:
                    // One bool per layer, true for a sliding-window layer (llama.cpp's `is_swa`).
                    kinds = try flags.map { flag throws(FormatError) in
                        guard let local = flag.boolValue else { throw .typeMismatch(path: gguf.path, key: names.layerKinds, expected: "an array of bools") }
                        return local ? .local : .global
                    }
                case let value?:
                    guard let period = value.intValue, period >= 0 else {
                        throw FormatError.typeMismatch(path: gguf.path, key: names.layerKinds, expected: "a period or an array of bools")
                    }
                    // Period 0 makes every layer local (llama.cpp's `set_swa_pattern`).
                    kinds = period == 0 ? Array(repeating: .local, count: layers) : Self.layerKinds(count: layers, period: period)
                case nil:
                    kinds = Self.layerKinds(count: layers, period: 6)
                }
            }
            var scaling: Double?
            let scalingType = try gguf.optionalString("\(arch).rope.scaling.type") ?? "linear"
            let factor = try gguf.optionalDouble("\(arch).rope.scaling.factor") ?? gguf.optionalDouble("\(arch).rope.scale_linear")
            switch scalingType {
            case "none": scaling = nil
            case "linear": scaling = factor.flatMap { $0 == 0 || $0 == 1 ? nil : $0 }
            default:
                throw ModelError.invalidConfiguration(path: gguf.path, reason: "\(arch).rope.scaling.type '\(scalingType)' is not supported (linear and none are)")
            }
            self.init(
                hiddenSize: hidden,
                intermediateSize: try gguf.int(names.intermediateSize),
                numLayers: layers,
                numHeads: heads,
                numKVHeads: try gguf.optionalInt(names.numKVHeads) ?? heads,
                headDim: headDim,
                vocabSize: vocab,
                rmsNormEps: Float(try gguf.double(names.rmsNormEps)),
                ropeTheta: try gguf.optionalDouble(names.ropeTheta) ?? 10_000,
                localRopeTheta: try gguf.optionalDouble(names.localRopeTheta) ?? 10_000,
                ropeScalingFactor: scaling,
                slidingWindow: window,
                layerKinds: kinds,
                // gemma_pytorch's query_pre_attn_scalar: head_dim, except hidden/heads for the 27B.
                queryPreAttnScalar: Double(layers == 62 ? hidden / max(heads, 1) : headDim),
                maxPositionEmbeddings: try gguf.int(names.maxPositionEmbeddings),
                finalLogitSoftcapping: try gguf.optionalDouble(names.finalLogitSoftcapping).flatMap { $0 == 0 ? nil : Float($0) },
                tieWordEmbeddings: gguf.tensor(named: "output.weight") == nil
            )
        } catch let e as FormatError {
            throw .format(e)
        } catch let e as ModelError {
            throw e
        } catch {
            throw .invalidConfiguration(path: gguf.path, reason: "\(error)")
        }
        try validate(path: gguf.path, names: names)
        if let dims = try? gguf.optionalInt("\(arch).rope.dimension_count"), dims != headDim {
            throw .invalidConfiguration(path: gguf.path, reason: "partial rotary embeddings (\(arch).rope.dimension_count \(dims) of \(headDim)) are not supported")
        }
    }

    /// Decodes a Hugging Face `config.json` of `Gemma3ForCausalLM` (model_type "gemma3_text"),
    /// with transformers' defaults (`Gemma3TextConfig`) for absent keys.
    package init(configJSON data: Data, path: String) throws(ModelError) {
        let raw: Gemma3HFConfig
        do {
            raw = try JSONDecoder().decode(Gemma3HFConfig.self, from: data)
        } catch let error as DecodingError {
            throw .invalidConfiguration(path: path, reason: "config.json: \(Self.describe(error))")
        } catch {
            throw .invalidConfiguration(path: path, reason: "config.json: \(error)")
        }
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(path: path, reason: reason) }
        if raw.use_bidirectional_attention == true {
            throw fail("use_bidirectional_attention (EmbeddingGemma) is not supported: Tram runs causal decoders")
        }
        if let cap = raw.attn_logit_softcapping {
            throw fail("attn_logit_softcapping \(cap) is not supported (Gemma 3 has none)")
        }
        if raw.attention_bias == true { throw fail("attention_bias true is not supported (Gemma 3 has none)") }
        let activation = raw.hidden_activation ?? raw.hidden_act ?? "gelu_pytorch_tanh"
        guard activation == "gelu_pytorch_tanh" || activation == "gelu_tanh" else {
            throw fail("hidden_activation '\(activation)' is not supported (gelu_pytorch_tanh is)")
        }
        let layers = raw.num_hidden_layers
        guard layers > 0 else { throw fail("num_hidden_layers must be positive, got \(layers)") }
        var kinds: [LayerKind]
        if let types = raw.layer_types {
            kinds = []
            for (i, t) in types.enumerated() {
                guard let kind = LayerKind(rawValue: t) else {
                    throw fail("layer_types[\(i)] '\(t)' is neither full_attention nor sliding_attention")
                }
                kinds.append(kind)
            }
        } else {
            let period = raw.sliding_window_pattern ?? 6
            guard period >= 1 else { throw fail("sliding_window_pattern must be at least 1, got \(period)") }
            kinds = Self.layerKinds(count: layers, period: period)
        }
        // Newer configs carry `rope_parameters` per layer kind; older ones `rope_theta`,
        // `rope_local_base_freq` and `rope_scaling` (which transformers applies to global layers).
        let global = raw.rope_parameters?.full_attention ?? raw.rope_scaling
        let local = raw.rope_parameters?.sliding_attention
        func linearFactor(_ r: Gemma3HFConfig.Rope?, field: String) throws(ModelError) -> Double? {
            guard let r else { return nil }
            switch r.rope_type ?? r.type ?? "default" {
            case "default": return nil
            case "linear":
                guard let factor = r.factor else { throw fail("\(field) of type linear has no factor") }
                return factor == 1 ? nil : factor
            case let other: throw fail("\(field) rope_type '\(other)' is not supported (default and linear are)")
            }
        }
        let globalField = raw.rope_parameters?.full_attention != nil ? "rope_parameters.full_attention" : "rope_scaling"
        let scaling = try linearFactor(global, field: globalField)
        if try linearFactor(local, field: "rope_parameters.sliding_attention") != nil {
            throw fail("rope_parameters.sliding_attention: RoPE scaling of local layers is not supported")
        }
        let heads = raw.num_attention_heads ?? 8
        self.init(
            hiddenSize: raw.hidden_size ?? 2304,
            intermediateSize: raw.intermediate_size ?? 9216,
            numLayers: layers,
            numHeads: heads,
            numKVHeads: raw.num_key_value_heads ?? 4,
            headDim: raw.head_dim ?? 256,
            vocabSize: raw.vocab_size ?? 262_208,
            rmsNormEps: Float(raw.rms_norm_eps ?? 1e-6),
            ropeTheta: raw.rope_parameters?.full_attention?.rope_theta ?? raw.rope_theta ?? 1_000_000,
            localRopeTheta: local?.rope_theta ?? raw.rope_local_base_freq ?? 10_000,
            ropeScalingFactor: scaling,
            slidingWindow: raw.sliding_window ?? 0,
            layerKinds: kinds,
            queryPreAttnScalar: raw.query_pre_attn_scalar ?? 256,
            maxPositionEmbeddings: raw.max_position_embeddings ?? 131_072,
            finalLogitSoftcapping: raw.final_logit_softcapping.map(Float.init),
            tieWordEmbeddings: raw.tie_word_embeddings ?? true
        )
        try validate(path: path, names: .huggingFace)
    }

    /// A decoding error as "field 'a.b': what is wrong", naming the key.
    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            (c.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, c): return "missing field '\(path(c, key))'"
        case let .typeMismatch(type, c): return "field '\(path(c))' is not \(type)"
        case let .valueNotFound(type, c): return "field '\(path(c))' is null, expected \(type)"
        case let .dataCorrupted(c): return c.codingPath.isEmpty ? "not a JSON object (\(c.debugDescription))" : "field '\(path(c))': \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// The subset of a Gemma 3 `config.json` Tram reads; every key but the layer count may be absent
/// (transformers' defaults then apply). Unknown keys are ignored.
struct Gemma3HFConfig: Decodable {
    var hidden_size: Int?
    var intermediate_size: Int?
    var num_hidden_layers: Int
    var num_attention_heads: Int?
    var num_key_value_heads: Int?
    var head_dim: Int?
    var vocab_size: Int?
    var rms_norm_eps: Double?
    var rope_theta: Double?
    var rope_local_base_freq: Double?
    var rope_scaling: Rope?
    var rope_parameters: RopeParameters?
    var sliding_window: Int?
    var sliding_window_pattern: Int?
    var layer_types: [String]?
    var query_pre_attn_scalar: Double?
    var max_position_embeddings: Int?
    var final_logit_softcapping: Double?
    var attn_logit_softcapping: Double?
    var use_bidirectional_attention: Bool?
    var attention_bias: Bool?
    var hidden_activation: String?
    var hidden_act: String?
    var tie_word_embeddings: Bool?

    struct Rope: Decodable {
        var rope_type: String?
        var type: String?
        var factor: Double?
        var rope_theta: Double?
    }

    struct RopeParameters: Decodable {
        var full_attention: Rope?
        var sliding_attention: Rope?
    }
}
