import Foundation

/// `Tests/Fixtures/logits_smollm2.json`, made by `scripts/reference/make_fixtures.py` with a
/// numpy forward pass over the GGUF's dequantized weights (see scripts/reference/README.md).
public struct LogitsFixture: Decodable, Sendable {
    public struct Step: Decodable, Sendable {
        public var top_ids: [Int]
        public var top_logits: [Float]
        public var margin: Float
    }

    public struct Prompt: Decodable, Sendable {
        public var name: String
        public var chat: Bool
        public var text: String
        public var prompt_ids: [Int]
        public var continuation_ids: [Int]
        public var steps: [Step]

        /// Prompt plus the continuation except its last token: teacher forcing over these gives
        /// the logits of every step (step i is at row prompt_ids.count - 1 + i).
        public var teacherForcedInput: [Int] { prompt_ids + continuation_ids.dropLast() }
    }

    public struct Perplexity: Decodable, Sendable {
        public var text: String
        public var ids: [Int]
        public var mean_nll: Double
        public var perplexity: Double
    }

    public var prompts: [Prompt]
    public var perplexity: Perplexity
    /// The same measure over ~940 tokens, where int8 rounding noise averages out.
    public var perplexity_long: Perplexity

    /// A fixture of the same schema for another model (`logits_<model>.json`).
    public static func load(_ name: String) throws -> LogitsFixture {
        try JSONDecoder().decode(LogitsFixture.self, from: TestResources.fixture(name))
    }

    public static let shared: LogitsFixture = {
        do {
            return try JSONDecoder().decode(LogitsFixture.self, from: TestResources.fixture("logits_smollm2.json"))
        } catch {
            fatalError("cannot read Tests/Fixtures/logits_smollm2.json: \(error)")
        }
    }()
}
