import Foundation
import Testing
import TramEngine
import TramFormats
import TramKernels
import TramModels
import TramTestSupport
import TramTokenizer

/// `--quantization int8` on real weights: the f32 Hugging Face copy of SmolLM2-135M-Instruct
/// (scripts/make-hf-model.sh) loaded with its linear weights quantized to Q8_0, against the same
/// directory loaded as stored.
@Suite(.serialized) struct OnlineQuantizerTests {
    static let fixture = LogitsFixture.shared

    func llama(_ loaded: LoadedModel) throws -> LlamaModel { try #require(loaded.model as? LlamaModel) }

    /// Every linear weight (and the tied LM head) is Q8_0, each exactly the Q8_0 of the float
    /// weight under the same name; the embedding lookup table stays f32, straight from the file.
    @Test func everyLinearWeightIsTheQ8_0OfItsFloatWeight() throws {
        try ModelTestLock.run {
            let int8 = try llama(SharedModels.huggingFaceInt8.get())
            let float = try llama(SharedModels.huggingFace.get())
            let quantized = int8.weightMatrices, stored = float.weightMatrices
            #expect(quantized.count == 1 + 30 * 7 + 1)
            #expect(quantized.map(\.name) == stored.map(\.name))
            let pool = ThreadPool(threadCount: 2)
            for (q, f) in zip(quantized, stored) {
                #expect(f.matrix.type == .f32, "\(f.name)")
                if q.name == "token_embd.weight" {
                    // Read in place from the file, unchanged.
                    #expect(q.matrix.type == .f32 && q.matrix.owner is SafetensorsFile)
                    #expect(memcmp(q.matrix.data, f.matrix.data, f.matrix.rows * f.matrix.rowBytes) == 0)
                    continue
                }
                #expect(q.matrix.type == .q8_0, "\(q.name)")
                #expect(q.matrix.rows == f.matrix.rows && q.matrix.columns == f.matrix.columns, "\(q.name)")
                // "output.weight" of the float model is the tied embedding table itself.
                // …in the layout the loader packs for this CPU (x16 where AVX-512 VNNI runs).
                let expected = try #require(f.matrix.quantizedToQ8_0(pool: pool)).packedForKernels()
                #expect(q.matrix.packing == expected.packing, "\(q.name)")
                #expect(memcmp(q.matrix.data, expected.data, expected.rows * expected.rowBytes) == 0, "\(q.name)")
            }
            #expect(int8.weightDescription == "weights q8_0 (online from f32), embedding f32, lm head q8_0 (online, from the tied f32 embedding)")
            #expect(float.weightDescription == "weights f32, embedding f32, lm head tied")
        }
    }

    /// Teacher-forced logits at every position of every fixture prompt (587 rows of 49152
    /// logits) against the float model.
    ///
    /// Measured with the AVX-512 VNNI / AVX2 / scalar kernels: max |Δlogit| over the whole
    /// vocabulary 2.78 / 2.64 / 3.24, over the float model's top 5 1.80 / 1.53 / 2.20, mean |Δ|
    /// 0.307 / 0.309 / 0.312; the top-1 token differs at 23–25 of 587 positions, always where the
    /// float model led by less than 0.44. The Q8_0 kernels also quantize activations to int8 per
    /// 32 values, an error of the same kind and size as the weights' rounding: the GGUF model's
    /// Q4_1 path against its own f32 path (same weight values, only activations rounded)
    /// measures 1.63 / 0.86 / 0.205 (max / top 5 / mean, AVX-512) by the same yardstick.
    /// Bounds: the mean, which is stable, at 0.4; the maxima, which single roundings move, at 4.0
    /// and 3.0; the same top-1 token wherever the float model leads by 1.0 or more
    /// (GoldenLogitsTests' margin for the quantized path).
    @Test func logitsStayCloseToTheFloatModel() throws {
        try ModelTestLock.run {
            let int8 = try SharedModels.huggingFaceInt8.get()
            let float = try SharedModels.huggingFace.get()
            var worst: Float = 0, worstTop5: Float = 0, sum = 0.0, count = 0
            var rows = 0, flips = 0, largestLeadFlipped: Float = 0
            for p in Self.fixture.prompts {
                let a = try SharedModels.logits(int8, p.teacherForcedInput)
                let b = try SharedModels.logits(float, p.teacherForcedInput)
                for (ra, rb) in zip(a, b) {
                    rows += 1
                    for (x, y) in zip(ra, rb) {
                        worst = max(worst, abs(x - y))
                        sum += Double(abs(x - y))
                    }
                    count += ra.count
                    let order = rb.indices.sorted { rb[$0] > rb[$1] }
                    for id in order.prefix(5) { worstTop5 = max(worstTop5, abs(ra[id] - rb[id])) }
                    if ra.indices.max(by: { ra[$0] < ra[$1] })! != order[0] {
                        flips += 1
                        largestLeadFlipped = max(largestLeadFlipped, rb[order[0]] - rb[order[1]])
                    }
                }
            }
            let mean = sum / Double(count)
            print("int8 vs f32 (HF copy), \(rows) positions: max |Δlogit| \(worst), over the f32 top 5 \(worstTop5), mean \(mean); top-1 differs at \(flips) positions, where f32 led by at most \(largestLeadFlipped)")
            #expect(worst <= 4.0)
            #expect(worstTop5 <= 3.0)
            #expect(mean <= 0.4)
            #expect(largestLeadFlipped < 1.0, "the top-1 token changed where the float model led by \(largestLeadFlipped)")
        }
    }

    func perplexity(_ model: LoadedModel, _ ids: [Int]) throws -> Double {
        let rows = try SharedModels.logits(model, ids, prefillChunk: 256)
        var nll = 0.0
        for i in 0..<(ids.count - 1) {
            let row = rows[i]
            let m = row.max()!
            let logSum = Double(m) + log(row.reduce(0.0) { $0 + exp(Double($1 - m)) })
            nll += logSum - Double(row[ids[i + 1]])
        }
        return exp(nll / Double(ids.count - 1))
    }

    /// Perplexity over the 937-token fixture text within 1% of the float model's.
    /// Measured: f32 26.934, int8 27.037 (+0.38%); the GGUF's Q4_1 path is +0.54% from its
    /// reference, and GoldenLogitsTests explains why 1% covers the kernels' rounding noise.
    @Test func perplexityWithinOnePercentOfTheFloatModel() throws {
        try ModelTestLock.run {
            let text = Self.fixture.perplexity_long
            let q = try perplexity(SharedModels.huggingFaceInt8.get(), text.ids)
            let f = try perplexity(SharedModels.huggingFace.get(), text.ids)
            print("perplexity over \(text.ids.count) tokens: f32 \(f), int8 \(q) (\(String(format: "%+.2f", (q / f - 1) * 100))%)")
            #expect(abs(q / f - 1) <= 0.01)
        }
    }

    /// A greedy chat answer whose tokens are clearly decided comes out the same. ("What is
    /// 2 + 2?" is not such a prompt: the AVX-512 kernels answer as f32 does, "The answer to this
    /// classic math problem is 4.", the AVX2 and scalar ones "The answer is 4.")
    @Test func greedyAnswerMatchesTheFloatModel() throws {
        try ModelTestLock.run {
            var texts: [String] = []
            for loaded in [try SharedModels.huggingFaceInt8.get(), try SharedModels.huggingFace.get()] {
                let prompt = loaded.tokenizer.encode("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of Germany?<|im_end|>\n<|im_start|>assistant\n")
                let generator = SequenceGenerator(model: loaded, context: SharedModels.context, maxModelLength: 256)
                texts.append(try generator.generate(prompt: prompt, parameters: SamplingParameters(temperature: 0, maxTokens: 32)).text)
            }
            #expect(texts[0] == "The capital of Germany is Berlin.")
            #expect(texts[1] == texts[0])
        }
    }

    /// An already-quantized model is refused before any work, naming what it holds.
    @Test func quantizedGGUFIsRefused() throws {
        let path = try TestResources.realModelPath()
        #expect(throws: ModelError.self) { try ModelLoader.load(path: path, precision: .int8) }
        do {
            _ = try ModelLoader.load(path: path, precision: .int8)
        } catch let error {
            guard case let .quantizationConflict(errorPath, requested, found) = error else {
                Issue.record("expected quantizationConflict, got \(error)")
                return
            }
            #expect(errorPath == path && requested == "int8" && found == ["q4_1", "q8_0"])
            #expect(error.description.contains("already quantized (q4_1, q8_0)"))
        }
    }

    /// A float GGUF (f16 here) quantizes too: the real model's first two layers rewritten as an
    /// F16 GGUF, loaded with and without `.int8`. Measured max |Δlogit| over the first fixture
    /// prompt: 0.65 (two layers accumulate less rounding than thirty); bound 1.0.
    @Test func floatGGUFIsQuantized() throws {
        try ModelTestLock.run {
            let path = try makeF16GGUF(layers: 2)
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let int8 = try ModelLoader.load(path: path, precision: .int8)
            let f16 = try ModelLoader.load(path: path)
            let matrices = try llama(int8).weightMatrices
            #expect(matrices.count == 1 + 2 * 7 + 1)
            #expect(matrices.filter { $0.matrix.type == .q8_0 }.count == 2 * 7 + 1)
            #expect(matrices[0].matrix.type == .f16)
            #expect(int8.model.weightDescription == "weights q8_0 (online from f16), embedding f16, lm head q8_0 (online, from the tied f16 embedding)")
            let tokens = Self.fixture.prompts[0].teacherForcedInput
            let a = try SharedModels.logits(int8, tokens), b = try SharedModels.logits(f16, tokens)
            var worst: Float = 0
            for (ra, rb) in zip(a, b) { for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) } }
            print("2-layer F16 GGUF, int8 vs f16: max |Δlogit| \(worst)")
            #expect(worst <= 1.0)
        }
    }

    /// The real GGUF with only its first `layers` layers, every matrix stored as F16.
    func makeF16GGUF(layers: Int) throws -> String {
        let source = try GGUFFile(path: TestResources.realModelPath())
        let arch = try source.string("general.architecture")
        var writer = GGUFWriter()
        for key in source.metadataKeys where key != "general.alignment" {
            writer.add(key, key == "\(arch).block_count" ? .uint32(UInt32(layers)) : source.metadata[key]!)
        }
        for t in source.tensors {
            if t.name.hasPrefix("blk."), let n = Int(t.name.split(separator: ".")[1]), n >= layers { continue }
            let type = try #require(DataType(ggmlTypeID: t.type.id))
            if type == .f32 {
                writer.addTensor(t.name, dimensions: t.dimensions, type: .f32, bytes: Data(bytes: source.data(for: t), count: t.byteCount))
                continue
            }
            var floats = [Float](repeating: 0, count: t.elementCount)
            floats.withUnsafeMutableBufferPointer { dequantize(type, source.data(for: t), $0.baseAddress!, count: t.elementCount) }
            let halves = floats.map { Float16($0).bitPattern.littleEndian }
            writer.addTensor(t.name, dimensions: t.dimensions, type: .f16, bytes: halves.withUnsafeBytes { Data($0) })
        }
        let url = try TestResources.temporaryDirectory().appendingPathComponent("smollm2-2-layers-f16.gguf")
        try writer.encoded().write(to: url)
        return url.path
    }
}
