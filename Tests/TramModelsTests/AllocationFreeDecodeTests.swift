import Testing
import TramKernels
import TramModels
import TramTestSupport

/// A decode step's forward pass allocates nothing once its workspace and scratch have grown to
/// the batch (the performance issue's "no allocation per decode step"): every buffer it needs is
/// reused, and the kernel pool hands work to its threads without boxing closures.
@Suite(.serialized) struct AllocationFreeDecodeTests {
    /// Decodes `steps` tokens for each of `sequences` sequences (after a short prompt) and returns
    /// the allocations counted over every step after the first.
    func decodeAllocations(_ model: any CausalLM, context: KernelContext, sequences: Int, steps: Int = 4) throws -> Int {
        let blockSize = 16, prompt = 20
        let blocksPerSequence = (prompt + steps + blockSize - 1) / blockSize
        let layout = PagedKVLayout(numBlocks: sequences * blocksPerSequence, blockSize: blockSize,
                                   numKVHeads: model.numKVHeads, headDim: model.headDim)
        // The model's own cache type: f16 for the Q4_1 file, f32 for the f32 weights.
        let cache = KVCache(numLayers: model.numLayers, layout: layout, dtype: model.defaultKVCacheDType)
        let tables = (0..<sequences).map { s in (0..<blocksPerSequence).map { Int32(s * blocksPerSequence + $0) } }
        func slot(_ s: Int, _ p: Int) -> Int32 { tables[s][p / blockSize] * Int32(blockSize) + Int32(p % blockSize) }
        let vocab = model.vocabularySize
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: sequences * vocab)
        defer { logits.deallocate() }

        // Prefill every prompt (grows the workspace beyond what decoding needs).
        var generator = SeededGenerator(seed: 7)
        var prefillTokens: [Int32] = [], positions: [Int32] = [], slots: [Int32] = []
        var rows: [ForwardBatch.Sequence] = []
        for s in 0..<sequences {
            rows.append(.init(queryStart: s * prompt, queryLength: prompt, contextLength: prompt, blockTable: tables[s]))
            for p in 0..<prompt {
                prefillTokens.append(Int32(generator.next() % UInt64(vocab)))
                positions.append(Int32(p))
                slots.append(slot(s, p))
            }
        }
        try model.forward(ForwardBatch(tokenIDs: prefillTokens, positions: positions, slotMapping: slots, sequences: rows,
                                       logitsIndices: (0..<sequences).map { $0 * prompt + prompt - 1 }),
                          cache: cache, context: context, logits: logits)

        // Decode batches are built before counting: only the forward passes are measured.
        let batches = (0..<steps).map { step in
            let p = prompt + step
            return ForwardBatch(
                tokenIDs: (0..<sequences).map { _ in Int32(generator.next() % UInt64(vocab)) },
                positions: Array(repeating: Int32(p), count: sequences),
                slotMapping: (0..<sequences).map { slot($0, p) },
                sequences: (0..<sequences).map { .init(queryStart: $0, queryLength: 1, contextLength: p + 1, blockTable: tables[$0]) },
                logitsIndices: Array(0..<sequences))
        }
        try model.forward(batches[0], cache: cache, context: context, logits: logits)
        return try AllocationCounter.count(including: context.pool) { () throws(ModelError) in
            for batch in batches.dropFirst() {
                try model.forward(batch, cache: cache, context: context, logits: logits)
            }
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var float32: Bool
        var threads: Int
        var sequences: Int
        var testDescription: String { "\(float32 ? "f32 weights and KV" : "Q4_1 weights, f16 KV"), \(threads) threads, \(sequences) sequences" }
    }

    static let cases = [false, true].flatMap { f in [1, 2].flatMap { t in [1, 8].map { Case(float32: f, threads: t, sequences: $0) } } }

    /// Gemma 3 270M as stored (Q5_0/Q4_K/Q6_K/Q8_0 weights, f16 KV): QK-norm, GeGLU, the
    /// post-norms and the sliding window allocate nothing either.
    @Test(arguments: [(1, 1), (2, 8)])
    func gemma3DecodeStepAllocatesNothing(threads: Int, sequences: Int) throws {
        #expect(AllocationCounter.isActive, "this platform's malloc could not be counted")
        try ModelTestLock.run {
            let model = try RealModels.get(.gemma3).model
            let context = threads == 2 ? SharedModels.context : KernelContext(threads: threads)
            let allocations = try decodeAllocations(model, context: context, sequences: sequences)
            #expect(allocations == 0, "\(allocations) allocations in 3 decode steps")
        }
    }

    @Test(arguments: cases)
    func decodeStepAllocatesNothing(_ c: Case) throws {
        #expect(AllocationCounter.isActive, "this platform's malloc could not be counted")
        try ModelTestLock.run {
            let model = try (c.float32 ? SharedModels.float32 : SharedModels.quantized).get().model
            let context = c.threads == 2 ? SharedModels.context : KernelContext(threads: c.threads)
            let allocations = try decodeAllocations(model, context: context, sequences: c.sequences)
            #expect(allocations == 0, "\(allocations) allocations in 3 decode steps")
        }
    }
}
