import Testing
import TramTokenizer
import TramKernels
import TramEngine
import TramKernels
import TramModels
import TramTestSupport

@Suite(.serialized) struct ForwardPassTests {
    /// Chunked prefill and token-by-token decoding must reproduce a one-shot prefill.
    @Test func chunkingDoesNotChangeLogits() throws {
        try ModelTestLock.run {
            let model = try SharedModels.quantized.get()
            let tokens = LogitsFixture.shared.prompts[5].teacherForcedInput
            let whole = try SharedModels.logits(model, tokens)
            for chunk in [1, 7, 16] {
                let chunked = try SharedModels.logits(model, tokens, prefillChunk: chunk)
                var worst: Float = 0
                for (a, b) in zip(whole, chunked) {
                    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
                }
                #expect(worst == 0, "chunk \(chunk): max difference \(worst)")
            }
        }
    }

    @Test func badBatchesThrowInsteadOfCrashing() throws {
        try ModelTestLock.run {
            let loaded = try SharedModels.quantized.get()
            let m = loaded.model
            let layout = PagedKVLayout(numBlocks: 2, blockSize: 16, numKVHeads: m.numKVHeads, headDim: m.headDim)
            let cache = KVCache(numLayers: m.numLayers, layout: layout)
            var logits = [Float](repeating: 0, count: m.vocabularySize)
            func run(_ batch: ForwardBatch) throws {
                try logits.withUnsafeMutableBufferPointer { p in
                    try m.forward(batch, cache: cache, context: SharedModels.context, logits: p.baseAddress!)
                }
            }
            func batch(token: Int32 = 1, position: Int32 = 0, slot: Int32 = 0, table: [Int32] = [0], logitsIndex: Int = 0) -> ForwardBatch {
                ForwardBatch(tokenIDs: [token], positions: [position], slotMapping: [slot],
                             sequences: [.init(queryStart: 0, queryLength: 1, contextLength: 1, blockTable: table)], logitsIndices: [logitsIndex])
            }
            try run(batch())
            #expect(throws: ModelError.self) { try run(batch(token: 49152)) }
            #expect(throws: ModelError.self) { try run(batch(token: -1)) }
            #expect(throws: ModelError.self) { try run(batch(position: 1_000_000)) }
            #expect(throws: ModelError.self) { try run(batch(slot: 32)) }
            #expect(throws: ModelError.self) { try run(batch(table: [5])) }
            #expect(throws: ModelError.self) { try run(batch(table: [])) }
            #expect(throws: ModelError.self) { try run(batch(logitsIndex: 3)) }
        }
    }

    @Test func unknownArchitectureAndMissingModelAreErrors() throws {
        #expect(throws: ModelError.self) { try ModelLoader.load(path: "/nonexistent/model.gguf") }
        let dir = try TestResources.temporaryDirectory()
        try Data(#"{"architectures": ["GPTBigCodeForCausalLM"], "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 8}"#.utf8)
            .write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: ModelError.self) { try ModelLoader.load(path: dir.path) }
        try Data("{ not json".utf8).write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: ModelError.self) { try ModelLoader.load(path: dir.path) }
    }
}

import Foundation
