import Foundation
import Testing
import TramTokenizer
import TramKernels
import TramEngine
import TramModels
import TramTestSupport

/// The forward pass against an independent numpy reference (scripts/reference/llama_ref.py)
/// over SmolLM2-135M-Instruct, teacher-forced at every step of a 32-token greedy continuation.
@Suite(.serialized) struct GoldenLogitsTests {
    static let fixture = LogitsFixture.shared

    struct Comparison {
        var maxDifference: Float = 0
        var argmaxMismatchesAboveMargin = 0
    }

    func compare(_ prompt: LogitsFixture.Prompt, _ rows: [[Float]], argmaxMargin: Float) -> Comparison {
        var c = Comparison()
        for (i, step) in prompt.steps.enumerated() {
            let row = rows[prompt.prompt_ids.count - 1 + i]
            for (id, expected) in zip(step.top_ids, step.top_logits) {
                c.maxDifference = max(c.maxDifference, abs(row[id] - expected))
            }
            let ours = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
            if step.margin >= argmaxMargin, ours != step.top_ids[0] { c.argmaxMismatchesAboveMargin += 1 }
        }
        return c
    }

    @Test func tokenizerReproducesPromptIDs() throws {
        try ModelTestLock.run {
            let model = try SharedModels.quantized.get()
            for p in Self.fixture.prompts {
                #expect(model.tokenizer.encode(p.text) == p.prompt_ids, "\(p.name)")
            }
            #expect(model.tokenizer.encode(Self.fixture.perplexity.text) == Self.fixture.perplexity.ids)
        }
    }

    /// Teacher-forces every fixture prompt and checks each step's top-5 logits and argmax.
    func checkAgainstReference(_ model: LoadedModel, label: String, tolerance: Float, argmaxMargin: Float) throws {
        var worst: Float = 0
        for p in Self.fixture.prompts {
            let rows = try SharedModels.logits(model, p.teacherForcedInput)
            let c = compare(p, rows, argmaxMargin: argmaxMargin)
            worst = max(worst, c.maxDifference)
            #expect(c.maxDifference <= tolerance, "\(p.name): max top-5 logit difference \(c.maxDifference)")
            #expect(c.argmaxMismatchesAboveMargin == 0, "\(p.name)")
        }
        print("\(label) path: max |Δlogit| over top-5 of every step = \(worst)")
    }

    /// f32 weights and activations: every top-5 logit within 0.05 of the reference.
    @Test func float32PathMatchesReference() throws {
        try ModelTestLock.run {
            try checkAgainstReference(SharedModels.float32.get(), label: "float32", tolerance: 0.05, argmaxMargin: 0.1)
        }
    }

    /// Quantized weights × int8 activations: within 2.0, same argmax wherever the reference is
    /// decided by at least 1.0.
    @Test func quantizedPathMatchesReference() throws {
        try ModelTestLock.run {
            try checkAgainstReference(SharedModels.quantized.get(), label: "quantized", tolerance: 2.0, argmaxMargin: 1.0)
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

    /// Perplexity of the quantized path within 1% of the reference, measured over ~940 tokens.
    ///
    /// Over the ~200-token text the quantized path's perplexity moves by about ±0.6% (one standard
    /// deviation) from nothing but the order of float additions in the kernels, because a tiny
    /// change flips the int8 rounding of later activations (scalar, AVX2 and AVX-512 kernels gave
    /// −0.5%, +0.5%, +1.06%). The long text brings that noise well under the 1% tolerance; the short
    /// text is still checked, at twice the tolerance, and both are printed.
    @Test func perplexityWithinOnePercent() throws {
        try ModelTestLock.run {
            let fixture = Self.fixture
            let quantized = try SharedModels.quantized.get()
            let float32 = try SharedModels.float32.get()
            for (text, tolerance) in [(fixture.perplexity_long, 0.01), (fixture.perplexity, 0.02)] {
                let q = try perplexity(quantized, text.ids)
                let f = try perplexity(float32, text.ids)
                print("perplexity over \(text.ids.count) tokens: reference \(text.perplexity), quantized \(q) (\(String(format: "%+.2f", (q / text.perplexity - 1) * 100))%), float32 \(f)")
                #expect(abs(q - text.perplexity) / text.perplexity <= tolerance, "\(text.ids.count) tokens")
                #expect(abs(f - text.perplexity) / text.perplexity <= 0.001, "\(text.ids.count) tokens")
            }
        }
    }

    /// The HF directory made by scripts/gguf_to_hf.py (q/k un-permuted, rotate-half RoPE) must
    /// give the GGUF f32 path's logits.
    @Test func huggingFaceDirectoryMatchesGGUF() throws {
        try ModelTestLock.run {
            let hf = try SharedModels.huggingFace.get()
            let gguf = try SharedModels.float32.get()
            #expect(hf.chatTemplate == gguf.chatTemplate)
            #expect(hf.eosTokenIDs.contains(2))
            var worst: Float = 0
            for p in Self.fixture.prompts.prefix(4) {
                #expect(hf.tokenizer.encode(p.text) == p.prompt_ids)
                let a = try SharedModels.logits(hf, p.teacherForcedInput)
                let b = try SharedModels.logits(gguf, p.teacherForcedInput)
                for (ra, rb) in zip(a, b) {
                    for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) }
                }
                let c = compare(p, a, argmaxMargin: 0.1)
                #expect(c.maxDifference <= 0.05, "\(p.name)")
            }
            print("HF directory vs GGUF f32: max |Δlogit| over the whole vocabulary = \(worst)")
            #expect(worst <= 1e-3)
        }
    }
}
