public import Foundation
import TramFormats

/// A tiny Gemma 3 (6 layers of width 32, window 4, every 3rd layer global) with seeded f32
/// weights, written as a GGUF file the way llama.cpp's converter writes one, or as a Hugging
/// Face directory. Small enough that sliding windows, the local/global pattern and the paged
/// cache's block boundaries all show within a dozen tokens.
///
/// The weights are reproducible outside Swift: `scripts/reference/make_gemma3_tiny_fixture.py`
/// draws the same values (SplitMix64, the recipe in `tensors()`) to build the numpy reference
/// behind `Tests/Fixtures/logits_gemma3_tiny.json`. Every value is exactly representable, so
/// both sides hold bit-identical weights, and a Hugging Face norm w and the GGUF's 1 + w are
/// exact too.
public struct TinyGemma3: Sendable {
    public var hidden = 32
    public var heads = 2
    public var kvHeads = 1
    public var headDim = 16
    public var ffn = 64
    public var layers = 6
    /// Layer i is global when (i + 1) % period == 0.
    public var period = 3
    public var window = 4
    public var contextLength = 64
    public var seed: UInt64 = 3
    /// `gemma3.rope.scaling.factor` (linear, global layers), when set.
    public var ropeScalingFactor: Double?
    /// `gemma3.final_logit_softcapping`, when set.
    public var finalLogitSoftcapping: Double?
    /// Write `gemma3.attention.sliding_window_pattern` as this period (nil: leave it out, so the
    /// reader's default of 6 would apply — only right when `period` is 6).
    public var writesPattern = true
    /// `tokenizer.chat_template`, which real Gemma 3 GGUFs lack.
    public var chatTemplate: String?

    public init() {}

    /// The vocabulary: Gemma's special tokens at small ids, "\n" user-defined as in Gemma, then
    /// letters and "▁letter" pieces.
    public static let tokens: [String] = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "\n", "\u{2581}"]
        + (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        + (UInt8(ascii: "a")...UInt8(ascii: "z")).map { "\u{2581}" + String(UnicodeScalar($0)) }
        + [".", ",", "?", "!"]
    public static let endOfTurnID = 5
    public var vocab: Int { Self.tokens.count }

    /// One tensor in GGUF naming: `[rows, columns]` row-major (a vector has `columns` nil), and
    /// whether it is an RMSNorm weight (stored as 1 + w).
    public struct Tensor: Sendable {
        public var name: String
        public var rows: Int
        public var columns: Int?
        public var values: [Float]
        public var isNorm: Bool
    }

    /// The weights in drawing order. Each value takes one SplitMix64 output `u`:
    /// a matrix entry is `((u >> 40) − 2²³) / 2²³ · scale` (scale a power of two), a norm entry
    /// `1 + ((u >> 58) − 32) / 256`.
    public func tensors() -> [Tensor] {
        var rng = SeededGenerator(seed: seed)
        var out: [Tensor] = []
        func matrix(_ name: String, _ rows: Int, _ columns: Int, scale: Float) {
            let values = (0..<(rows * columns)).map { _ in Float(Int64(rng.next() >> 40) - (1 << 23)) / Float(1 << 23) * scale }
            out.append(Tensor(name: name, rows: rows, columns: columns, values: values, isNorm: false))
        }
        func norm(_ name: String, _ count: Int) {
            let values = (0..<count).map { _ in 1 + Float(Int64(rng.next() >> 58) - 32) / 256 }
            out.append(Tensor(name: name, rows: count, columns: nil, values: values, isNorm: true))
        }
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        matrix("token_embd.weight", vocab, hidden, scale: 1)
        for i in 0..<layers {
            let p = "blk.\(i)."
            norm(p + "attn_norm.weight", hidden)
            matrix(p + "attn_q.weight", qDim, hidden, scale: 0.25)
            matrix(p + "attn_k.weight", kvDim, hidden, scale: 0.25)
            matrix(p + "attn_v.weight", kvDim, hidden, scale: 0.25)
            matrix(p + "attn_output.weight", hidden, qDim, scale: 0.25)
            norm(p + "attn_q_norm.weight", headDim)
            norm(p + "attn_k_norm.weight", headDim)
            norm(p + "post_attention_norm.weight", hidden)
            norm(p + "ffn_norm.weight", hidden)
            matrix(p + "ffn_gate.weight", ffn, hidden, scale: 0.25)
            matrix(p + "ffn_up.weight", ffn, hidden, scale: 0.25)
            matrix(p + "ffn_down.weight", hidden, ffn, scale: 0.125)
            norm(p + "post_ffw_norm.weight", hidden)
        }
        norm("output_norm.weight", hidden)
        return out
    }

    /// An f32 GGUF with the metadata llama.cpp's converter writes for Gemma 3 (no chat template,
    /// `add_space_prefix` false, BOS added).
    public func writeGGUF(to url: URL) throws {
        var w = GGUFWriter()
        let a = "gemma3"
        let keys: [(String, GGUFValue)] = [
            ("general.architecture", .string(a)), ("general.name", .string("tiny gemma 3")),
            ("\(a).context_length", .uint32(UInt32(contextLength))), ("\(a).embedding_length", .uint32(UInt32(hidden))),
            ("\(a).block_count", .uint32(UInt32(layers))), ("\(a).feed_forward_length", .uint32(UInt32(ffn))),
            ("\(a).attention.head_count", .uint32(UInt32(heads))), ("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(1e-6)),
            ("\(a).attention.key_length", .uint32(UInt32(headDim))), ("\(a).attention.value_length", .uint32(UInt32(headDim))),
            ("\(a).rope.freq_base", .float32(1_000_000)), ("\(a).attention.sliding_window", .uint32(UInt32(window))),
        ]
        for (k, v) in keys { w.add(k, v) }
        if writesPattern { w.add("\(a).attention.sliding_window_pattern", .uint32(UInt32(period))) }
        if let f = ropeScalingFactor {
            w.add("\(a).rope.scaling.type", .string("linear"))
            w.add("\(a).rope.scaling.factor", .float32(Float(f)))
        }
        if let cap = finalLogitSoftcapping { w.add("\(a).final_logit_softcapping", .float32(Float(cap))) }
        let types: [Int32] = Self.tokens.indices.map { $0 < 6 ? 3 : $0 == 6 ? 4 : 1 }
        let scores: [Float] = Self.tokens.map { -Float(1000 - $0.unicodeScalars.count) }
        let tokenizer: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.pre", .string("default")),
            ("tokenizer.ggml.tokens", .array(Self.tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(2)), ("tokenizer.ggml.eos_token_id", .uint32(1)),
            ("tokenizer.ggml.unknown_token_id", .uint32(3)), ("tokenizer.ggml.padding_token_id", .uint32(0)),
            ("tokenizer.ggml.add_bos_token", .bool(true)), ("tokenizer.ggml.add_eos_token", .bool(false)),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
        ]
        for (k, v) in tokenizer { w.add(k, v) }
        if let chatTemplate { w.add("tokenizer.chat_template", .string(chatTemplate)) }
        for t in tensors() {
            w.addTensor(t.name, dimensions: t.columns.map { [$0, t.rows] } ?? [t.rows], floats: t.values)
        }
        try w.encoded().write(to: url)
    }

    /// A Hugging Face directory: `config.json` (Gemma3ForCausalLM), `model.safetensors` (F32, HF
    /// names, norms as the raw w), a minimal `tokenizer.json` and `generation_config.json`.
    public func writeHuggingFace(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let types = (0..<layers).map { ($0 + 1) % period == 0 ? "\"full_attention\"" : "\"sliding_attention\"" }.joined(separator: ", ")
        var config = """
            {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": \(hidden),
             "intermediate_size": \(ffn), "num_hidden_layers": \(layers), "num_attention_heads": \(heads),
             "num_key_value_heads": \(kvHeads), "head_dim": \(headDim), "vocab_size": \(vocab), "rms_norm_eps": 1e-06,
             "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "sliding_window": \(window),
             "layer_types": [\(types)], "query_pre_attn_scalar": \(headDim), "max_position_embeddings": \(contextLength),
             "hidden_activation": "gelu_pytorch_tanh", "final_logit_softcapping": \(finalLogitSoftcapping.map { "\($0)" } ?? "null"),
             "attn_logit_softcapping": null, "tie_word_embeddings": true, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0
            """
        if let f = ropeScalingFactor { config += #", "rope_scaling": {"rope_type": "linear", "factor": \#(f)}"# }
        config += "}"
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data(#"{"eos_token_id": [1, 5]}"#.utf8).write(to: dir.appendingPathComponent("generation_config.json"))

        var entries: [String] = [], data = Data()
        for t in tensors() {
            let bytes = t.values.map { ($0 - (t.isNorm ? 1 : 0)).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
            let shape = t.columns.map { [t.rows, $0] } ?? [t.rows]
            entries.append("\"\(Self.huggingFaceName(t.name))\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}")
            data.append(bytes)
        }
        var header = "{" + entries.joined(separator: ",") + ",\"__metadata__\":{\"format\":\"pt\"}}"
        while header.utf8.count % 8 != 0 { header += " " }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(Data(header.utf8))
        file.append(data)
        try file.write(to: dir.appendingPathComponent("model.safetensors"))

        let vocabJSON = Self.tokens.enumerated().map { "\(jsonString($1)): \($0)" }.joined(separator: ", ")
        let added = (0..<6).map { #"{"id": \#($0), "content": \#(jsonString(Self.tokens[$0])), "special": true}"# }.joined(separator: ", ")
        let tokenizer = #"{"model": {"type": "BPE", "vocab": {\#(vocabJSON)}, "merges": []}, "added_tokens": [\#(added)]}"#
        try Data(tokenizer.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
    }

    /// GGUF tensor name → the Hugging Face name of `Gemma3ForCausalLM`.
    static func huggingFaceName(_ gguf: String) -> String {
        switch gguf {
        case "token_embd.weight": return "model.embed_tokens.weight"
        case "output_norm.weight": return "model.norm.weight"
        default:
            let parts = gguf.split(separator: ".")
            let names = [
                "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
                "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm",
                "attn_k_norm": "self_attn.k_norm", "post_attention_norm": "post_attention_layernorm",
                "ffn_norm": "pre_feedforward_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                "ffn_down": "mlp.down_proj", "post_ffw_norm": "post_feedforward_layernorm",
            ]
            return "model.layers.\(parts[1]).\(names[String(parts[2])]!).weight"
        }
    }
}

private func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
