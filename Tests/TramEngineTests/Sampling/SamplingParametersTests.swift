import Testing
import TramEngine

@Suite struct SamplingParametersTests {
    /// One out-of-range value per case, with the field name the message must carry.
    struct Invalid: CustomTestStringConvertible, Sendable {
        var field: String
        var parameters: SamplingParameters
        var testDescription: String { field }
    }

    static let invalid: [Invalid] = {
        func make(_ field: String, _ change: (inout SamplingParameters) -> Void) -> Invalid {
            var p = SamplingParameters()
            change(&p)
            return Invalid(field: field, parameters: p)
        }
        return [
            make("n") { $0.n = 0 },
            make("n") { $0.n = 129 },
            make("n") { $0.n = 1 << 62 },
            make("temperature") { $0.temperature = -0.1 },
            make("temperature") { $0.temperature = .nan },
            make("top_p") { $0.topP = 0 },
            make("top_p") { $0.topP = 1.01 },
            make("top_k") { $0.topK = -2 },
            make("min_p") { $0.minP = -0.01 },
            make("min_p") { $0.minP = 1.5 },
            make("presence_penalty") { $0.presencePenalty = 2.5 },
            make("presence_penalty") { $0.presencePenalty = -2.01 },
            make("frequency_penalty") { $0.frequencyPenalty = -3 },
            make("repetition_penalty") { $0.repetitionPenalty = 0 },
            make("repetition_penalty") { $0.repetitionPenalty = -1 },
            make("max_tokens") { $0.maxTokens = 0 },
            make("min_tokens") { $0.minTokens = -1 },
            make("min_tokens") { $0.maxTokens = 4; $0.minTokens = 5 },
            make("logprobs") { $0.logprobs = -1 },
            make("logprobs") { $0.logprobs = 21 },
            make("prompt_logprobs") { $0.promptLogprobs = -1 },
            make("prompt_logprobs") { $0.promptLogprobs = 21 },
            make("stop") { $0.stop = ["ok", ""] },
            make("stop") { $0.stop = (0..<65).map { "s\($0)" } },
            make("stop_token_ids") { $0.stopTokenIDs = Array(0..<1025) },
            make("logit_bias") { $0.logitBias = Dictionary(uniqueKeysWithValues: (0..<1025).map { ($0, Float(1)) }) },
            make("logit_bias") { $0.logitBias = [-1: 1] },
            make("logit_bias") { $0.logitBias = [3: .nan] },
            make("stop_token_ids") { $0.stopTokenIDs = [-5] },
        ]
    }()

    /// Ranges are `validate`'s; upper bounds on sizes (n, logprobs, …) the default `RequestLimits`'.
    @Test(arguments: invalid)
    func outOfRangeFieldsAreRejectedNamingTheField(_ c: Invalid) {
        do {
            try c.parameters.validate()
            try RequestLimits().check(c.parameters)
            Issue.record("\(c.field) was accepted")
        } catch {
            switch error {
            case let .invalidParameter(message):
                #expect(message.hasPrefix(c.field), "\(message)")
            case let .invalidField(message, param):
                #expect(message.hasPrefix(c.field) && param == c.field, "\(message)")
            default:
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func requestLimitsAreConfigurable() throws {
        let many = SamplingParameters(n: 200, logprobs: 50)
        #expect(throws: EngineError.invalidField("n must be at most 128, got 200.", param: "n")) { try RequestLimits().check(many) }
        try RequestLimits(maxN: 200, maxLogprobs: 50).check(many)
        // -1: as many logprobs as the vocabulary has.
        try RequestLimits(maxN: 200, maxLogprobs: -1).check(many, vocabularySize: 50)
        #expect(throws: EngineError.self) { try RequestLimits(maxN: 200, maxLogprobs: -1).check(many, vocabularySize: 49) }
        #expect(RequestLimits(maxN: 0).problem != nil && RequestLimits(maxLogprobs: -2).problem != nil && RequestLimits().problem == nil)
        #expect(throws: EngineError.self) { try RequestLimits().check(promptCount: 3, n: Int.max) }
        #expect(throws: EngineError.self) { try RequestLimits(maxTotalPromptTokens: 10).check(totalPromptTokens: 11) }
        try RequestLimits(maxTotalPromptTokens: 10).check(totalPromptTokens: 10)
    }

    @Test func vocabularyBoundsAreCheckedWhenKnown() {
        let bias = SamplingParameters(logitBias: [10: 5])
        #expect(throws: Never.self) { try bias.validate() }
        #expect(throws: EngineError.self) { try bias.validate(vocabularySize: 10) }
        #expect(throws: Never.self) { try bias.validate(vocabularySize: 11) }
        #expect(throws: EngineError.self) { try SamplingParameters(stopTokenIDs: [10]).validate(vocabularySize: 10) }
    }

    @Test func defaultsAndEdgeValuesAreValid() throws {
        let p = SamplingParameters()
        #expect(p.n == 1 && p.temperature == 1 && p.topP == 1 && p.topK == nil && p.minP == 0)
        #expect(p.repetitionPenalty == 1 && p.presencePenalty == 0 && p.frequencyPenalty == 0)
        #expect(p.skipSpecialTokens && !p.ignoreEOS && !p.includeStopStrInOutput && p.minTokens == 0)
        #expect(p.logprobs == nil && p.promptLogprobs == nil && p.stop.isEmpty && p.stopTokenIDs.isEmpty)
        try p.validate()
        try SamplingParameters(temperature: 0, topP: 1e-9, topK: -1, minP: 1, presencePenalty: -2, frequencyPenalty: 2,
                               repetitionPenalty: 0.01, logitBias: [0: 1000], maxTokens: nil, minTokens: 1_000_000,
                               stop: ["\n"], logprobs: 20, promptLogprobs: 0).validate()
        try SamplingParameters(topK: 0, maxTokens: 3, minTokens: 3, logprobs: 0).validate()
        #expect(SamplingParameters(temperature: 0).isGreedy && SamplingParameters(temperature: 1e-6).isGreedy)
        #expect(!SamplingParameters(temperature: 1e-4).isGreedy)
        #expect(SamplingParameters(topK: -1).effectiveTopK == nil && SamplingParameters(topK: 0).effectiveTopK == nil)
        #expect(SamplingParameters(topK: 5).effectiveTopK == 5)
    }

    @Test func messagesFollowVLLM() {
        #expect(throws: EngineError.invalidParameter("top_p must be in (0, 1], got 0.0.")) { try SamplingParameters(topP: 0).validate() }
        #expect(throws: EngineError.invalidParameter("stop cannot contain an empty string.")) { try SamplingParameters(stop: [""]).validate() }
        #expect(throws: EngineError.invalidParameter("min_tokens must be less than or equal to max_tokens=2, got 3.")) {
            try SamplingParameters(maxTokens: 2, minTokens: 3).validate()
        }
    }
}
