import Foundation
import Testing
import TramFormats
import TramModels
import TramTestSupport

@Suite struct Gemma3ConfigurationTests {
    /// google/gemma-3-270m's config.json as published (keys Tram does not read included).
    static let gemma270MConfig = """
        {"_sliding_window_pattern": 6, "architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
         "attn_logit_softcapping": null, "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256,
         "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "initializer_range": 0.02, "intermediate_size": 2048,
         "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                         "full_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                         "sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                         "sliding_attention", "sliding_attention", "full_attention"],
         "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 18,
         "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
         "rope_local_base_freq": 10000.0, "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": 512,
         "torch_dtype": "bfloat16", "transformers_version": "4.55.0.dev0", "use_bidirectional_attention": false,
         "use_cache": true, "vocab_size": 262144}
        """

    func decode(_ json: String) throws -> Gemma3Configuration {
        try Gemma3Configuration(configJSON: Data(json.utf8), path: "config.json")
    }

    /// The 270M's hyper-parameters: from its GGUF's metadata (read without its weights), and the
    /// same from its Hugging Face config.json. Layers 5, 11 and 17 are global.
    @Test func realGGUFAndItsConfigJSONAgree() throws {
        let file = try GGUFFile(path: TestResources.aliasModelPath("gemma-3-270m"))
        let gguf = try Gemma3Configuration(gguf: file)
        #expect(gguf.hiddenSize == 640 && gguf.numLayers == 18 && gguf.intermediateSize == 2048)
        #expect(gguf.numHeads == 4 && gguf.numKVHeads == 1 && gguf.headDim == 256 && gguf.vocabSize == 262_144)
        #expect(gguf.slidingWindow == 512 && gguf.ropeTheta == 1_000_000 && gguf.localRopeTheta == 10_000)
        #expect(gguf.ropeScalingFactor == nil && gguf.finalLogitSoftcapping == nil && gguf.tieWordEmbeddings)
        #expect(gguf.queryPreAttnScalar == 256 && gguf.maxPositionEmbeddings == 32_768)
        #expect(gguf.layerKinds.indices.filter { gguf.layerKinds[$0] == .global } == [5, 11, 17])
        #expect(try decode(Self.gemma270MConfig) == gguf)
    }

    @Test func layerPatternFromPeriodOrList() throws {
        #expect(Gemma3Configuration.layerKinds(count: 8, period: 6) == [.local, .local, .local, .local, .local, .global, .local, .local])
        // Without layer_types, sliding_window_pattern (transformers' default 6) decides.
        let c = try decode(#"{"num_hidden_layers": 12, "sliding_window_pattern": 4, "sliding_window": 1024}"#)
        #expect(c.layerKinds.indices.filter { c.layerKinds[$0] == .global } == [3, 7, 11])
        let d = try decode(#"{"num_hidden_layers": 7, "sliding_window": 1024}"#)
        #expect(d.layerKinds.indices.filter { d.layerKinds[$0] == .global } == [5])
        // transformers' defaults for absent keys (Gemma3TextConfig).
        #expect(d.hiddenSize == 2304 && d.headDim == 256 && d.queryPreAttnScalar == 256 && d.localRopeTheta == 10_000 && d.ropeTheta == 1e6)
    }

    /// Gemma 3 4B–27B scale global RoPE linearly by 8, in the old `rope_scaling` key or the
    /// newer `rope_parameters`; local layers keep the plain base.
    @Test func linearRopeScalingAppliesToGlobalLayersOnly() throws {
        let old = try decode(#"{"num_hidden_layers": 6, "sliding_window": 1024, "head_dim": 128, "rope_scaling": {"rope_type": "linear", "factor": 8.0}}"#)
        let new = try decode("""
            {"num_hidden_layers": 6, "sliding_window": 1024, "head_dim": 128,
             "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                                 "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}
            """)
        #expect(old == new && old.ropeScalingFactor == 8)
        let local = old.inverseFrequencies(.local), global = old.inverseFrequencies(.global)
        #expect(local[1] == 1 / pow(10_000, 2.0 / 128))
        #expect(global[1] == 1 / pow(1_000_000, 2.0 / 128) / 8)
    }

    /// Bad values are refused with the key that holds them.
    @Test(arguments: [
        (#"{"sliding_window": 512}"#, "num_hidden_layers"),
        (#"{"num_hidden_layers": "18"}"#, "num_hidden_layers"),
        (#"{"num_hidden_layers": 0}"#, "num_hidden_layers"),
        (#"{"num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 2, "sliding_window": 4}"#, "num_attention_heads"),
        (#"{"num_hidden_layers": 2, "head_dim": 15, "sliding_window": 4}"#, "head_dim"),
        (#"{"num_hidden_layers": 2, "layer_types": ["sliding_attention"], "sliding_window": 4}"#, "layer_types"),
        (#"{"num_hidden_layers": 2, "layer_types": ["sliding_attention", "chunked_attention"], "sliding_window": 4}"#, "layer_types[1]"),
        (#"{"num_hidden_layers": 2, "sliding_window": 0}"#, "sliding_window"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "hidden_activation": "gelu"}"#, "hidden_activation"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "rope_scaling": {"rope_type": "yarn", "factor": 4}}"#, "rope_scaling"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "use_bidirectional_attention": true}"#, "use_bidirectional_attention"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "attn_logit_softcapping": 50.0}"#, "attn_logit_softcapping"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "query_pre_attn_scalar": 0}"#, "query_pre_attn_scalar"),
        (#"{"num_hidden_layers": 2, "sliding_window": 4, "max_position_embeddings": 1099511627776}"#, "max_position_embeddings"),
        ("[]", "config.json"),
    ])
    func badConfigJSONNamesTheField(json: String, field: String) {
        #expect {
            try decode(json)
        } throws: { error in
            guard let e = error as? ModelError, case .invalidConfiguration = e else { return false }
            return "\(e)".contains(field)
        }
    }

    /// A GGUF with one key changed from the tiny model's: the error names that key.
    @Test(arguments: [
        ("gemma3.attention.head_count", GGUFValue.uint32(0)),
        ("gemma3.attention.head_count_kv", .uint32(3)),
        ("gemma3.block_count", .uint32(0)),
        ("gemma3.attention.sliding_window_pattern", .array([.bool(true), .bool(false)])),
        ("gemma3.attention.sliding_window_pattern", .string("6")),
        ("gemma3.rope.scaling.type", .string("yarn")),
        ("gemma3.attention.value_length", .uint32(8)),
        ("gemma3.attention.layer_norm_rms_epsilon", .string("1e-6")),
        ("gemma3.context_length", .uint64(1 << 40)),
    ])
    func badGGUFNamesTheKey(key: String, value: GGUFValue) throws {
        let file = try tinyGGUF(replacing: key, with: value)
        #expect { try Gemma3Configuration(gguf: file) } throws: { "\($0)".contains(key) }
    }

    /// The per-layer form of the pattern (one bool per layer, true = sliding) and a file
    /// without any pattern key (llama.cpp's default period 6).
    @Test func ggufPatternAsFlagsOrDefault() throws {
        let flags: [GGUFValue] = [true, false, true, true, false, true].map { .bool($0) }
        let c = try Gemma3Configuration(gguf: tinyGGUF(replacing: "gemma3.attention.sliding_window_pattern", with: .array(flags)))
        #expect(c.layerKinds == [.local, .global, .local, .local, .global, .local])
        let d = try Gemma3Configuration(gguf: tinyGGUF(replacing: "gemma3.attention.sliding_window_pattern", with: nil))
        #expect(d.layerKinds == [.local, .local, .local, .local, .local, .global])
        // No sliding window at all: every layer global.
        let e = try Gemma3Configuration(gguf: tinyGGUF(replacing: "gemma3.attention.sliding_window", with: nil))
        #expect(e.layerKinds == Array(repeating: .global, count: 6))
    }

    /// The tiny model's GGUF metadata with `key` replaced (or removed when `value` is nil).
    func tinyGGUF(replacing key: String, with value: GGUFValue?) throws -> GGUFFile {
        let dir = try TestResources.temporaryDirectory()
        let source = dir.appendingPathComponent("tiny.gguf")
        try TinyGemma3().writeGGUF(to: source)
        let file = try GGUFFile(path: source.path)
        var w = GGUFWriter()
        for k in file.metadataKeys where k != "general.alignment" && k != key { w.add(k, file.metadata[k]!) }
        if let value { w.add(key, value) }
        let url = dir.appendingPathComponent("changed.gguf")
        try w.encoded().write(to: url)
        return try GGUFFile(path: url.path)
    }
}
