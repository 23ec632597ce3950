import Foundation
import TramTestSupport

/// `Tests/Fixtures/logits_smollm2.json`, made by `scripts/reference/make_fixtures.py` with a
/// numpy forward pass over the GGUF's dequantized weights (see scripts/reference/README.md).
struct LogitsFixture: Decodable {
    struct Step: Decodable {
        var top_ids: [Int]
        var top_logits: [Float]
        var margin: Float
    }

    struct Prompt: Decodable {
        var name: String
        var chat: Bool
        var text: String
        var prompt_ids: [Int]
        var continuation_ids: [Int]
        var steps: [Step]

        /// Prompt plus the continuation except its last token: teacher forcing over these gives
        /// the logits of every step (step i is at row prompt_ids.count - 1 + i).
        var teacherForcedInput: [Int] { prompt_ids + continuation_ids.dropLast() }
    }

    struct Perplexity: Decodable {
        var text: String
        var ids: [Int]
        var mean_nll: Double
        var perplexity: Double
    }

    var prompts: [Prompt]
    var perplexity: Perplexity
    /// The same measure over ~940 tokens, where int8 rounding noise averages out.
    var perplexity_long: Perplexity

    static let shared: LogitsFixture = {
        do {
            return try JSONDecoder().decode(LogitsFixture.self, from: TestResources.fixture("logits_smollm2.json"))
        } catch {
            fatalError("cannot read Tests/Fixtures/logits_smollm2.json: \(error)")
        }
    }()
}
