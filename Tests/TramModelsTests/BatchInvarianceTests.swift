import Testing
import TramKernels
import TramModels
import TramTestSupport

/// A request's logits must not depend on what else is in its batch: reduction order may not
/// depend on batch composition (DESIGN.md, "Forward pass over a flattened batch").
@Suite(.serialized) struct BatchInvarianceTests {
    struct Sequence {
        var tokens: [Int32]
        var blocks: [Int32]
        var cached = 0
    }

    /// Runs `rows` of several sequences as one flattened batch; returns each row's logits.
    func run(_ model: any CausalLM, _ cache: KVCache, _ parts: [(sequence: Sequence, start: Int, count: Int)]) throws -> [[Float]] {
        var tokenIDs: [Int32] = [], positions: [Int32] = [], slots: [Int32] = []
        var sequences: [ForwardBatch.Sequence] = []
        let blockSize = cache.layout.blockSize
        for part in parts {
            sequences.append(.init(queryStart: tokenIDs.count, queryLength: part.count,
                                   contextLength: part.start + part.count, blockTable: part.sequence.blocks))
            for p in part.start..<(part.start + part.count) {
                tokenIDs.append(part.sequence.tokens[p])
                positions.append(Int32(p))
                slots.append(part.sequence.blocks[p / blockSize] * Int32(blockSize) + Int32(p % blockSize))
            }
        }
        let vocab = model.vocabularySize
        var logits = [Float](repeating: 0, count: tokenIDs.count * vocab)
        let batch = ForwardBatch(tokenIDs: tokenIDs, positions: positions, slotMapping: slots,
                                 sequences: sequences, logitsIndices: Array(0..<tokenIDs.count))
        try logits.withUnsafeMutableBufferPointer { try model.forward(batch, cache: cache, context: SharedModels.context, logits: $0.baseAddress!) }
        return (0..<tokenIDs.count).map { Array(logits[($0 * vocab)..<(($0 + 1) * vocab)]) }
    }

    /// 32 sequences of mixed lengths — 16 decoding one token against cached context, 16 in
    /// prefill chunks of 1 to 40 tokens — in one batch give every row the logits it gets alone.
    @Test func logitsAreBitwiseIdenticalAloneAndInABatchOf32() throws {
        try ModelTestLock.run {
            try checkBatchInvariance(SharedModels.quantized.get().model, sequences: 32, tokenBound: 49152)
        }
    }

    /// The same over Gemma 3 270M (Q5_0/Q4_K/Q6_K/Q8_0 kernels, QK-norm, sliding-window and
    /// global layers), 12 sequences: its 262K-token LM head makes each row's logits costly.
    @Test func gemma3LogitsAreBitwiseIdenticalAloneAndInABatch() throws {
        try ModelTestLock.run {
            let model = try RealModels.get(.gemma3).model
            try checkBatchInvariance(model, sequences: 12, tokenBound: UInt64(model.vocabularySize))
        }
    }

    /// Half of `sequences` decode one token after a cached prompt, half prefill up to 40 tokens;
    /// all in one batch (block tables scrambled) must give each row its logits alone, in either order.
    func checkBatchInvariance(_ model: any CausalLM, sequences count: Int, tokenBound: UInt64) throws {
        let blockSize = 16
        let cache = KVCache(numLayers: model.numLayers, layout: PagedKVLayout(
            numBlocks: count * 4, blockSize: blockSize, numKVHeads: model.numKVHeads, headDim: model.headDim),
            dtype: model.defaultKVCacheDType)
        var generator = SeededGenerator(seed: 2024)
        // Sequence i owns blocks 4i ..< 4i+4, listed in a scrambled order so tables are not contiguous.
        var sequences: [Sequence] = (0..<count).map { i in
            let length = 1 + Int(generator.next() % 48)
            let tokens = (0..<(length + 1)).map { _ in Int32(generator.next() % tokenBound) }
            return Sequence(tokens: tokens, blocks: [3, 1, 0, 2].map { Int32(4 * i + $0) })
        }
        // The first half have their prompts cached already and decode their last token.
        let decoding = count / 2
        for i in 0..<decoding {
            let prompt = sequences[i].tokens.count - 1
            _ = try run(model, cache, [(sequences[i], 0, prompt)])
            sequences[i].cached = prompt
        }
        var parts: [(sequence: Sequence, start: Int, count: Int)] = []
        for (i, s) in sequences.enumerated() {
            parts.append(i < decoding ? (s, s.cached, 1) : (s, 0, min(40, s.tokens.count)))
        }
        var alone: [[Float]] = []
        for part in parts { alone += try run(model, cache, [part]) }
        let together = try run(model, cache, parts)
        #expect(together.count == alone.count)
        var mismatches = 0
        for (a, b) in zip(alone, together) where a != b { mismatches += 1 }
        #expect(mismatches == 0, "\(mismatches) of \(alone.count) rows differ between alone and batched")
        // And the batch order does not matter either.
        let reversed = try run(model, cache, parts.reversed())
        var offset = together.count
        var reversedMismatches = 0
        var r = 0
        for part in parts.reversed() {
            offset -= part.count
            for k in 0..<part.count where reversed[r + k] != together[offset + k] { reversedMismatches += 1 }
            r += part.count
        }
        #expect(reversedMismatches == 0)
    }
}
