import Foundation
import Testing
import TramTokenizer
import TramKernels
import TramFormats
import TramModels
import TramTestSupport

@Suite struct LlamaConfigurationTests {
    func decode(_ json: String) throws -> LlamaConfiguration {
        try LlamaConfiguration(configJSON: Data(json.utf8), path: "config.json")
    }

    /// A GGUF whose head count is 0 is reported as such, not as partial rotary embeddings
    /// (the head dimension derived from it is meaningless).
    @Test func zeroHeadCountInGGUFNamesTheHeads() throws {
        var writer = GGUFWriter()
        let keys: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("llama.embedding_length", .uint32(64)),
            ("llama.attention.head_count", .uint32(0)), ("llama.attention.head_count_kv", .uint32(0)),
            ("llama.feed_forward_length", .uint32(128)), ("llama.block_count", .uint32(1)), ("llama.vocab_size", .uint32(32)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)), ("llama.rope.dimension_count", .uint32(16)),
        ]
        for (key, value) in keys { writer.add(key, value) }
        writer.addTensor("token_embd.weight", dimensions: [64, 32], floats: [Float](repeating: 0, count: 64 * 32))
        let url = try TestResources.temporaryDirectory().appendingPathComponent("zero-heads.gguf")
        try writer.encoded().write(to: url)
        let file = try GGUFFile(path: url.path)
        #expect {
            try LlamaConfiguration(gguf: file, architecture: "llama")
        } throws: { error in
            let text = "\(error)"
            return text.contains("attention head counts must be positive") && !text.contains("rotary")
        }
    }

    @Test func decodesLlama31WithRopeScaling() throws {
        let c = try decode("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
             "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
             "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 131072, "tie_word_embeddings": false,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16", "unknown_field": {"x": 1}}
            """)
        #expect(c.headDim == 128 && c.numKVHeads == 8 && c.ropeTheta == 500_000 && c.rmsNormEps == 1e-5)
        #expect(c.ropeStyle == .halves && !c.tieWordEmbeddings && !c.attentionBias)
        let scaling = try #require(c.ropeScaling)
        #expect(scaling.factor == 8 && scaling.originalMaxPositionEmbeddings == 8192)
        // High frequencies are kept, low ones divided by the factor, the band between smoothed.
        let base = (0..<64).map { 1 / pow(500_000.0, Double(2 * $0) / 128) }
        let scaled = c.inverseFrequencies()
        #expect(scaled[0] == base[0])
        #expect(abs(scaled[63] - base[63] / 8) < 1e-15)
        #expect(scaled[40] == base[40] / 8)
        // Pair 32 has a wavelength between 8192/4 and 8192 tokens: smoothed between the two.
        #expect(scaled[32] < base[32] && scaled[32] > base[32] / 8)
    }

    @Test func decodesQwen2BiasesAndDefaults() throws {
        let c = try decode("""
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
             "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "max_position_embeddings": 32768, "tie_word_embeddings": true}
            """)
        #expect(c.attentionBias && c.tieWordEmbeddings && c.headDim == 64)
    }

    @Test func rejectsInconsistentConfigs() {
        #expect(throws: ModelError.self) { try decode(#"{"hidden_size": 64}"#) }
        #expect(throws: ModelError.self) {
            try decode(#"{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 2, "vocab_size": 10}"#)
        }
        #expect(throws: ModelError.self) {
            try decode(#"{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10, "rope_scaling": {"rope_type": "yarn", "factor": 4}}"#)
        }
        #expect(throws: ModelError.self) { try decode("[]") }
    }

    @Test func readsTheRealGGUF() throws {
        let file = try GGUFFile(path: TestResources.realModelPath())
        let c = try LlamaConfiguration(gguf: file, architecture: "llama")
        #expect(c.hiddenSize == 576 && c.intermediateSize == 1536 && c.numLayers == 30)
        #expect(c.numHeads == 9 && c.numKVHeads == 3 && c.headDim == 64 && c.vocabSize == 49152)
        #expect(c.ropeTheta == 100_000 && c.ropeStyle == .adjacentPairs && c.tieWordEmbeddings)
        #expect(c.maxPositionEmbeddings == 8192)
    }
}
