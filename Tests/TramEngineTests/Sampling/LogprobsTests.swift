import Foundation
import Testing
import TramEngine

@Suite struct LogprobsTests {
    func logSoftmax(_ logits: [Float]) -> [Double] {
        let m = Double(logits.max()!)
        let lse = m + log(logits.reduce(0) { $0 + exp(Double($1) - m) })
        return logits.map { Double($0) - lse }
    }

    func sample(_ logits: [Float], _ p: SamplingParameters) -> SampledToken {
        var s = Sampler(parameters: p)
        return logits.withUnsafeBufferPointer { s.sample($0, promptTokenIDs: [], outputTokenIDs: []) }
    }

    @Test func sampledTokenLogprobRankAndSortedAlternatives() throws {
        let logits: [Float] = [1, 2, 3, 0.5, 2]
        let reference = logSoftmax(logits)
        let t = sample(logits, SamplingParameters(temperature: 0, logprobs: 3))
        let lp = try #require(t.logprobs)
        #expect(t.tokenID == 2 && lp.tokenID == 2 && lp.rank == 1)
        #expect(abs(Double(lp.logprob) - reference[2]) < 1e-6)
        #expect(lp.top.map(\.tokenID) == [2, 1, 4], "sorted by logprob, lower id first on ties")
        for alt in lp.top { #expect(abs(Double(alt.logprob) - reference[alt.tokenID]) < 1e-6) }
    }

    /// Logprobs come from the raw logits (vLLM's default `raw_logprobs`): a logit bias changes the
    /// token sampled, not the logprobs reported.
    @Test func logprobsAreFromTheRawLogits() throws {
        let logits: [Float] = [1, 2, 3, 0.5]
        let reference = logSoftmax(logits)
        let t = sample(logits, SamplingParameters(temperature: 0, logitBias: [0: 10], logprobs: 2))
        let lp = try #require(t.logprobs)
        #expect(t.tokenID == 0)
        #expect(abs(Double(lp.logprob) - reference[0]) < 1e-6)
        #expect(lp.rank == 3)
        #expect(lp.top.map(\.tokenID) == [2, 1])
        // With temperature 2, still the raw log-softmax.
        let hot = try #require(sample(logits, SamplingParameters(temperature: 2, seed: 1, logprobs: 0)).logprobs)
        #expect(abs(Double(hot.logprob) - reference[hot.tokenID]) < 1e-6 && hot.top.isEmpty)
    }

    @Test func tiesCountAgainstTheRank() throws {
        let t = sample([2, 2, 1], SamplingParameters(temperature: 0, logitBias: [1: 1], logprobs: 1))
        #expect(t.tokenID == 1 && t.logprobs?.rank == 2 && t.logprobs?.top.map(\.tokenID) == [0])
        #expect(sample([2, 2, 1], SamplingParameters(temperature: 0)).logprobs == nil)
    }

    @Test func promptLogprobsScoreEachNextPromptToken() throws {
        let vocab = 6
        let rows = (0..<4).map { SamplingReference.logits(count: vocab, seed: UInt64(50 + $0)) }
        let prompt = [5, 0, 3, 3]
        let result = rows.flatMap { $0 }.withUnsafeBufferPointer {
            Logprobs.promptLogprobs(logits: $0, vocabularySize: vocab, promptTokenIDs: prompt, topK: 2)
        }
        #expect(result.count == 4 && result[0] == nil)
        for position in 1..<4 {
            let entry = try #require(result[position])
            let reference = logSoftmax(rows[position - 1])
            #expect(entry.tokenID == prompt[position])
            #expect(abs(Double(entry.logprob) - reference[prompt[position]]) < 1e-6)
            let order = reference.indices.sorted { reference[$0] > reference[$1] }
            #expect(entry.top.map(\.tokenID) == Array(order.prefix(2)))
            #expect(entry.rank == 1 + order.firstIndex(of: prompt[position])!)
        }
    }
}
