public import TramKernels

/// What the engine needs from any decoder-only architecture: shapes for sizing the KV cache and
/// a forward pass over a flattened batch that writes logits for the requested rows.
public protocol CausalLM: AnyObject, Sendable {
    var vocabularySize: Int { get }
    /// Positions the model can encode (its context length).
    var maxPositions: Int { get }
    var numLayers: Int { get }
    var numKVHeads: Int { get }
    var headDim: Int { get }
    /// Weights one token's forward pass multiplies by: every layer's projections and the LM head
    /// (not the embedding lookup). A step's compute is about 2 × this per token, which is what
    /// the engine sizes its default token budget by.
    var matmulParameters: Int { get }
    /// One line describing the weights' formats, for start-up logs.
    var weightDescription: String { get }
    /// The KV cache element type `--kv-cache-dtype auto` picks: the precision the model's own
    /// activations carry (f32 for an f32 checkpoint or `--float32`, else f16, as llama.cpp does
    /// for quantized files).
    var defaultKVCacheDType: KVCacheDType { get }

    /// Runs the batch, writing `[batch.logitsIndices.count, vocabularySize]` logits.
    func forward(_ batch: ForwardBatch, cache: KVCache, context: KernelContext, logits: UnsafeMutablePointer<Float>) throws(ModelError)
}

/// `matmulParameters` of a decoder with grouped-query attention and a gated MLP (Llama, Qwen2,
/// Gemma 3): per layer q, k, v, o and gate, up, down; then the LM head.
func decoderMatmulParameters(layers: Int, hidden d: Int, heads: Int, kvHeads: Int, headDim: Int, intermediate f: Int,
                             vocabulary: Int) -> Int {
    let attention = d * (heads + 2 * kvHeads) * headDim + heads * headDim * d
    return layers * (attention + 3 * d * f) + vocabulary * d
}
