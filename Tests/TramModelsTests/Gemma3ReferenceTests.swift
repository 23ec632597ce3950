import Foundation
import Testing
import TramChat
import TramEngine
import TramKernels
import TramModels
import TramTestSupport
import TramTokenizer

/// Gemma 3 against the independent numpy reference (scripts/reference/gemma3_ref.py).
///
/// The tiny model (`TinyGemma3`, rebuilt bit for bit by scripts/reference/make_gemma3_tiny_fixture.py)
/// in f32 must give the reference's logits to float rounding, at every position of sequences
/// longer than its window, in five variants: as built (window 4, layers 2 and 5 global), every
/// layer local, every layer global, Gemma 3's period 6, final logit softcapping.
@Suite(.serialized) struct Gemma3ReferenceTests {
    struct TinyFixture: Decodable {
        struct Variant: Decodable {
            var name: String
            var logits: [[[Float]]]  // [sequence][position][vocab]
        }
        var sequences: [[Int]]
        var variants: [Variant]
    }

    static func tiny(_ variant: String) -> TinyGemma3 {
        var t = TinyGemma3()
        switch variant {
        case "all_local": t.period = 100
        case "all_global": t.period = 1
        case "period_6": t.period = 6
        case "softcapped": t.finalLogitSoftcapping = 2
        default: break
        }
        return t
    }

    @Test func tinyModelMatchesTheReference() throws {
        let fixture = try JSONDecoder().decode(TinyFixture.self, from: TestResources.fixture("logits_gemma3_tiny.json"))
        #expect(fixture.variants.map(\.name) == ["tiny", "all_local", "all_global", "period_6", "softcapped"])
        try ModelTestLock.run {
            var results: [String: [[[Float]]]] = [:]
            for variant in fixture.variants {
                let model = try Gemma3ModelTests.load(Self.tiny(variant.name))
                var worst: Float = 0
                var ours: [[[Float]]] = []
                for (ids, expected) in zip(fixture.sequences, variant.logits) {
                    let rows = try SequenceGenerator(model: model, context: SharedModels.context, blockSize: 4).logits(for: ids)
                    ours.append(rows)
                    for (row, reference) in zip(rows, expected) {
                        for (x, y) in zip(row, reference) { worst = max(worst, abs(x - y)) }
                    }
                }
                results[variant.name] = ours
                print("tiny Gemma 3 (\(variant.name)): max |Δlogit| against the reference \(worst)")
                #expect(worst <= 1e-4, "\(variant.name)")
            }
            // Each variant changes the logits, so each rule above was tested.
            for name in ["all_local", "all_global", "period_6", "softcapped"] {
                #expect(results[name] != results["tiny"], "\(name) gives the same logits as the plain model")
            }
        }
    }
}

/// The real Gemma 3 270M's conventions as loaded (its numbers against the reference are
/// `RealModelTests` with `RealModelSpec.gemma3`).
@Suite(.serialized) struct Gemma3RealModelTests {
    @Test func stopsAtEndOfTurnAndChatsWithTheBuiltInTemplate() throws {
        let model = try ModelTestLock.run { try RealModels.get(.gemma3) }
        #expect(model.architecture == "gemma3" && model.model is Gemma3Model)
        #expect(model.chatTemplate == nil, "llama.cpp's converter writes no chat template for Gemma 3")
        #expect(BuiltInChatTemplate.forArchitecture(model.architecture) == .gemma3)
        // <eos> (the GGUF's EOS) and <end_of_turn>, which ends every chat turn.
        #expect(model.eosTokenIDs == [1, 106])
        #expect(model.tokenizer.token(for: 106) == "<end_of_turn>")
        #expect(model.model.weightDescription.hasPrefix("weights q4_K/q5_0/q6_K/q8_0"), "\(model.model.weightDescription)")
        #expect(model.model.defaultKVCacheDType == .float16)
    }
}
