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
    /// One line describing the weights' formats, for start-up logs.
    var weightDescription: String { get }
    /// The KV cache element type `--kv-cache-dtype auto` picks: the precision the model's own
    /// activations carry (f32 for an f32 checkpoint or `--float32`, else f16, as llama.cpp does
    /// for quantized files).
    var defaultKVCacheDType: KVCacheDType { get }

    /// Runs the batch, writing `[batch.logitsIndices.count, vocabularySize]` logits.
    func forward(_ batch: ForwardBatch, cache: KVCache, context: KernelContext, logits: UnsafeMutablePointer<Float>) throws(ModelError)
}
