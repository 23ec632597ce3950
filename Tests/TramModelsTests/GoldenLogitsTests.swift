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
        let model = try SharedModels.quantized.get()
        for p in Self.fixture.prompts {
            #expect(model.tokenizer.encode(p.text) == p.prompt_ids, "\(p.name)")
        }
        #expect(model.tokenizer.encode(Self.fixture.perplexity.text) == Self.fixture.perplexity.ids)
    }

    /// f32 weights and activations: every top-5 logit within 0.05 of the reference.
    @Test func float32PathMatchesReference() throws {
        let model = try SharedModels.float32.get()
        var worst: Float = 0
        for p in Self.fixture.prompts {
            let rows = try SharedModels.logits(model, p.teacherForcedInput)
            let c = compare(p, rows, argmaxMargin: 0.1)
            worst = max(worst, c.maxDifference)
            #expect(c.maxDifference <= 0.05, "\(p.name): max top-5 logit difference \(c.maxDifference)")
            #expect(c.argmaxMismatchesAboveMargin == 0, "\(p.name)")
        }
        print("float32 path: max |Δlogit| over top-5 of every step = \(worst)")
    }

    /// Quantized weights × int8 activations: within 2.0, same argmax wherever the reference is
    /// decided by at least 1.0.
    @Test func quantizedPathMatchesReference() throws {
        let model = try SharedModels.quantized.get()
        var worst: Float = 0
        for p in Self.fixture.prompts {
            let rows = try SharedModels.logits(model, p.teacherForcedInput)
            let c = compare(p, rows, argmaxMargin: 1.0)
            worst = max(worst, c.maxDifference)
            #expect(c.maxDifference <= 2.0, "\(p.name): max top-5 logit difference \(c.maxDifference)")
            #expect(c.argmaxMismatchesAboveMargin == 0, "\(p.name)")
        }
        print("quantized path: max |Δlogit| over top-5 of every step = \(worst)")
    }

    func perplexity(_ model: LoadedModel) throws -> Double {
        let ids = Self.fixture.perplexity.ids
        let rows = try SharedModels.logits(model, ids)
        var nll = 0.0
        for i in 0..<(ids.count - 1) {
            let row = rows[i]
            let m = row.max()!
            let logSum = Double(m) + log(row.reduce(0.0) { $0 + exp(Double($1 - m)) })
            nll += logSum - Double(row[ids[i + 1]])
        }
        return exp(nll / Double(ids.count - 1))
    }

    @Test func perplexityWithinOnePercent() throws {
        let reference = Self.fixture.perplexity.perplexity
        let quantized = try perplexity(SharedModels.quantized.get())
        let float32 = try perplexity(SharedModels.float32.get())
        print("perplexity: reference \(reference), quantized \(quantized), float32 \(float32)")
        #expect(abs(quantized - reference) / reference <= 0.01)
        #expect(abs(float32 - reference) / reference <= 0.001)
    }

    /// The HF directory made by scripts/gguf_to_hf.py (q/k un-permuted, rotate-half RoPE) must
    /// give the GGUF f32 path's logits.
    @Test func huggingFaceDirectoryMatchesGGUF() throws {
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
