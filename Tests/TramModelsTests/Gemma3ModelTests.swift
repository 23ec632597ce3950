import Foundation
import Testing
import TramEngine
import TramFormats
import TramKernels
import TramModels
import TramTestSupport
import TramTokenizer

/// Gemma 3 over the tiny synthetic model (`TinyGemma3`): loading, the sliding window's exact
/// reach, the paged cache (chunking, batching, allocation-free decode), the Hugging Face path.
/// Numbers against an independent reference are in `Gemma3ReferenceTests`.
@Suite(.serialized) struct Gemma3ModelTests {
    static func load(_ tiny: TinyGemma3, precision: WeightPrecision = .native) throws -> LoadedModel {
        let url = try TestResources.temporaryDirectory().appendingPathComponent("tiny-gemma3.gguf")
        try tiny.writeGGUF(to: url)
        return try ModelLoader.load(path: url.path, precision: precision)
    }

    static let tiny: Result<LoadedModel, any Error> = Result { try load(TinyGemma3()) }

    func logits(_ model: LoadedModel, _ tokens: [Int], blockSize: Int = 4, prefillChunk: Int = 512,
                kvCacheDType: KVCacheDType? = nil) throws -> [[Float]] {
        try SequenceGenerator(model: model, context: SharedModels.context, blockSize: blockSize, prefillChunk: prefillChunk,
                              kvCacheDType: kvCacheDType).logits(for: tokens)
    }

    @Test func loadsAsGemma3WithItsConventions() throws {
        let loaded = try Self.tiny.get()
        #expect(loaded.architecture == "gemma3")
        #expect(loaded.model is Gemma3Model)
        #expect(loaded.chatTemplate == nil)
        // EOS (<eos>, 1) and the end of a chat turn (<end_of_turn>), which the file names only by its text.
        #expect(loaded.eosTokenIDs == [1, TinyGemma3.endOfTurnID])
        #expect(loaded.model.weightDescription == "weights f32, embedding f32, lm head tied")
        #expect(loaded.model.defaultKVCacheDType == .float32)
        // add_bos_token true, add_space_prefix false: BOS first, and a leading word keeps no "▁".
        let a = 8, b = 9, spaceB = 35
        #expect(loaded.tokenizer.encode("ab b") == [2, a, b, spaceB])
        #expect(loaded.tokenizer.encode("ab b", addSpecialTokens: false) == [a, b, spaceB])
        #expect(loaded.tokenizer.decode([2, a, b, spaceB], skipSpecialTokens: true) == "ab b")
        let config = try #require((loaded.model as? Gemma3Model)?.configuration)
        #expect(config.layerKinds == [.local, .local, .global, .local, .local, .global])
        #expect(config.slidingWindow == 4 && config.queryPreAttnScalar == 16 && config.localRopeTheta == 10_000 && config.ropeTheta == 1e6)
    }

    /// A local layer at position p sees exactly the keys p − W + 1 … p (W = 4, itself included):
    /// with one local layer, the token at p − W cannot change the logits at p, the one at p − W + 1
    /// does; with one global layer both do. Block size 4 puts the window's edge inside a block
    /// and at its boundary.
    @Test(arguments: [(true, 9), (true, 8), (true, 11), (false, 9)])
    func slidingWindowReachesExactlyWTokens(local: Bool, position p: Int) throws {
        try ModelTestLock.run {
            var tiny = TinyGemma3()
            tiny.layers = 1
            tiny.period = local ? 100 : 1
            let model = try Self.load(tiny)
            let base = (0..<(p + 1)).map { 8 + $0 % 26 }
            func logitsAt(_ tokens: [Int]) throws -> [Float] { try logits(model, tokens)[p] }
            let reference = try logitsAt(base)
            var outside = base, inside = base
            outside[p - tiny.window] = 60
            inside[p - tiny.window + 1] = 60
            if local {
                #expect(try logitsAt(outside) == reference, "the token \(tiny.window) back is outside the window")
            } else {
                #expect(try logitsAt(outside) != reference, "a global layer sees every earlier token")
            }
            #expect(try logitsAt(inside) != reference, "the token \(tiny.window - 1) back is inside the window")
        }
    }

    /// Chunked prefill (chunks that cut windows and blocks anywhere) and token-by-token decoding
    /// reproduce a one-shot prefill bitwise, on f32 and f16 caches and two block sizes.
    @Test(arguments: [KVCacheDType.float32, .float16])
    func chunkingDoesNotChangeLogits(_ dtype: KVCacheDType) throws {
        try ModelTestLock.run {
            let model = try Self.tiny.get()
            let tokens = (0..<23).map { 7 + ($0 * 5) % 57 }
            for blockSize in [4, 16] {
                let whole = try logits(model, tokens, blockSize: blockSize, kvCacheDType: dtype)
                for chunk in [1, 3, 5] {
                    let chunked = try logits(model, tokens, blockSize: blockSize, prefillChunk: chunk, kvCacheDType: dtype)
                    #expect(chunked == whole, "block size \(blockSize), chunk \(chunk)")
                }
            }
        }
    }

    /// A row's logits do not depend on the batch: 12 sequences (half decoding against cached
    /// context, half prefilling chunks of 1 to 20 tokens), scrambled block tables, one batch,
    /// give every row what it gets alone, in either batch order.
    @Test func logitsAreBitwiseIdenticalAloneAndInABatch() throws {
        try ModelTestLock.run {
            let model = try Self.tiny.get().model
            let blockSize = 4, blocksPerSequence = 8
            let cache = KVCache(numLayers: model.numLayers, layout: PagedKVLayout(
                numBlocks: 12 * blocksPerSequence, blockSize: blockSize, numKVHeads: model.numKVHeads, headDim: model.headDim),
                dtype: .float16)
            var generator = SeededGenerator(seed: 11)
            typealias Sequence = BatchInvarianceTests.Sequence
            var sequences: [Sequence] = (0..<12).map { i in
                let length = 2 + Int(generator.next() % 24)
                let tokens = (0..<(length + 1)).map { _ in Int32(generator.next() % UInt64(model.vocabularySize)) }
                let order = [5, 2, 7, 0, 3, 6, 1, 4].map { Int32(blocksPerSequence * i + $0) }
                return Sequence(tokens: tokens, blocks: order)
            }
            let runner = BatchInvarianceTests()
            for i in 0..<6 {
                let prompt = sequences[i].tokens.count - 1
                _ = try runner.run(model, cache, [(sequences[i], 0, prompt)])
                sequences[i].cached = prompt
            }
            var parts: [(sequence: Sequence, start: Int, count: Int)] = []
            for (i, s) in sequences.enumerated() {
                parts.append(i < 6 ? (s, s.cached, 1) : (s, 0, min(20, s.tokens.count)))
            }
            var alone: [[Float]] = []
            for part in parts { alone += try runner.run(model, cache, [part]) }
            let together = try runner.run(model, cache, parts)
            #expect(together == alone)
            let reversed = try runner.run(model, cache, parts.reversed())
            var expected: [[Float]] = []
            var offset = together.count
            for part in parts.reversed() {
                offset -= part.count
                expected += together[offset..<(offset + part.count)]
            }
            #expect(reversed == expected)
        }
    }

    @Test(arguments: [1, 8])
    func decodeStepAllocatesNothing(sequences: Int) throws {
        #expect(AllocationCounter.isActive, "this platform's malloc could not be counted")
        try ModelTestLock.run {
            let model = try Self.tiny.get().model
            for context in [SharedModels.context, KernelContext(threads: 1)] {
                let allocations = try AllocationFreeDecodeTests().decodeAllocations(model, context: context, sequences: sequences)
                #expect(allocations == 0, "\(allocations) allocations in 3 decode steps, \(context.pool.threadCount) threads")
            }
        }
    }

    /// The same weights as a Hugging Face directory (raw norm weights w, which the model turns
    /// into 1 + w; HF tensor names, whose `post_attention_layernorm` is Gemma's post-attention
    /// norm) give the GGUF's logits bitwise, and the directory's stop ids include <end_of_turn>.
    @Test func huggingFaceDirectoryMatchesGGUF() throws {
        try ModelTestLock.run {
            let dir = try TestResources.temporaryDirectory().appendingPathComponent("tiny-gemma3-hf")
            try TinyGemma3().writeHuggingFace(to: dir)
            let hf = try ModelLoader.load(path: dir.path)
            let gguf = try Self.tiny.get()
            #expect(hf.architecture == "Gemma3ForCausalLM")
            #expect(hf.eosTokenIDs == [1, TinyGemma3.endOfTurnID])
            let hfConfig = try #require((hf.model as? Gemma3Model)?.configuration)
            let ggufConfig = try #require((gguf.model as? Gemma3Model)?.configuration)
            #expect(hfConfig == ggufConfig)
            let tokens = (0..<14).map { 7 + ($0 * 11) % 57 }
            #expect(try logits(hf, tokens) == logits(gguf, tokens))
        }
    }

    /// `--quantization int8` quantizes Gemma's seven linears per layer and the tied head; its
    /// logits stay near the f32 model's, and `--float32` of an f32 file changes nothing.
    @Test func int8AndFloat32Paths() throws {
        try ModelTestLock.run {
            let f32 = try Self.tiny.get()
            let int8 = try Self.load(TinyGemma3(), precision: .int8)
            let float32 = try Self.load(TinyGemma3(), precision: .float32)
            #expect(int8.model.weightDescription == "weights q8_0 (online from f32), embedding f32, lm head q8_0 (online, from the tied f32 embedding)")
            let tokens = (0..<12).map { 7 + ($0 * 3) % 57 }
            let a = try logits(int8, tokens), b = try logits(f32, tokens)
            var worst: Float = 0
            for (ra, rb) in zip(a, b) { for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) } }
            #expect(worst < 0.5, "int8 vs f32: max |Δlogit| \(worst)")
            #expect(try logits(float32, tokens) == b)
        }
    }

    /// A file missing one of Gemma's extra norms, or with a wrongly shaped q-norm, is refused
    /// with an error naming the tensor.
    @Test func missingOrMisshapenTensorsNameTheTensor() throws {
        let tiny = TinyGemma3()
        let source = try TestResources.temporaryDirectory().appendingPathComponent("full.gguf")
        try tiny.writeGGUF(to: source)
        let file = try GGUFFile(path: source.path)
        for (drop, reshape) in [("blk.3.post_ffw_norm.weight", nil), (nil, "blk.1.attn_q_norm.weight")] as [(String?, String?)] {
            var w = GGUFWriter()
            for key in file.metadataKeys where key != "general.alignment" { w.add(key, file.metadata[key]!) }
            for t in file.tensors where t.name != drop {
                let bytes = Data(bytes: file.data(for: t), count: t.byteCount)
                if t.name == reshape {
                    w.addTensor(t.name, dimensions: [t.elementCount / 2], type: .f32, bytes: bytes.prefix(t.byteCount / 2))
                } else {
                    w.addTensor(t.name, dimensions: t.dimensions, type: .f32, bytes: bytes)
                }
            }
            let url = try TestResources.temporaryDirectory().appendingPathComponent("broken.gguf")
            try w.encoded().write(to: url)
            let name = drop ?? reshape!
            #expect { try ModelLoader.load(path: url.path) } throws: { "\($0)".contains(name) }
        }
    }
}
