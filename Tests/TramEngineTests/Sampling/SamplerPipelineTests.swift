import TramRandom
import Foundation
import Testing
import TramEngine

@Suite struct SamplerPipelineTests {
    func probabilities(_ logits: [Float], _ p: SamplingParameters, eos: Set<Int> = [], prompt: [Int] = [], output: [Int] = []) -> [Float] {
        let s = Sampler(parameters: p, eosTokenIDs: eos)
        return logits.withUnsafeBufferPointer { s.probabilities($0, promptTokenIDs: prompt, outputTokenIDs: output) }
    }

    func expectClose(_ a: [Float], _ b: [Double], _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count)
        let worst = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst < 1e-5, comment, sourceLocation: sourceLocation)
    }

    @Test func temperatureSharpensTheDistribution() {
        expectClose(probabilities([0, log(2)], SamplingParameters(temperature: 0.5)), [0.2, 0.8])
        expectClose(probabilities([0, log(4)], SamplingParameters(temperature: 2)), [1.0 / 3, 2.0 / 3])
    }

    @Test func minPDropsTokensBelowAFractionOfTheTop() {
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
        expectClose(probabilities(logits, SamplingParameters(minP: 0.2)), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0])
    }

    /// vLLM applies min-p before top-p, over the full distribution: min-p 0.3 removes the 0.1
    /// token, so top-p 0.75 renormalises over (0.44, 0.33, 0.22) and stops after two. Top-p
    /// first would have kept three (0.4 + 0.3 < 0.75).
    @Test func minPRunsBeforeTopP() {
        let logits = [0.4, 0.3, 0.2, 0.1].map { Float(log($0)) }
        expectClose(probabilities(logits, SamplingParameters(topP: 0.75, minP: 0.3)), [4.0 / 7, 3.0 / 7, 0, 0])
    }

    @Test func topKThenTopP() {
        let logits = [0.1, 0.2, 0.3, 0.4].map { Float(log($0)) }
        expectClose(probabilities(logits, SamplingParameters(topP: 0.7, topK: 3)), [0, 0, 3.0 / 7, 4.0 / 7])
    }

    @Test func greedyUsesTheProcessedLogitsAndBreaksTiesByLowestID() {
        #expect(probabilities([1, 5, 5], SamplingParameters(temperature: 0)) == [0, 1, 0])
        #expect(probabilities([1, 5, 5], SamplingParameters(temperature: 0, logitBias: [0: 4.5])) == [1, 0, 0])
        // Repetition penalty 3 turns 5 into 5/3 for the prompt token 1; 2 wins.
        #expect(probabilities([1, 5, 4], SamplingParameters(temperature: 0, repetitionPenalty: 3), prompt: [1]) == [0, 0, 1])
        #expect(probabilities([-.infinity, -.infinity], SamplingParameters(temperature: 1)) == [1, 0])
    }

    /// Every transform at once, on random rows, against the naive reference.
    @Test(arguments: 0..<24)
    func wholePipelineMatchesTheNaiveReference(seed: Int) {
        var g = Xoshiro256(seed: UInt64(1000 + seed))
        let vocab = 50 + Int(g.next() % 200)
        let logits = SamplingReference.logits(count: vocab, seed: UInt64(seed), scale: 6)
        let prompt = (0..<Int(g.next() % 40)).map { _ in Int(g.next() % UInt64(vocab)) }
        let output = (0..<Int(g.next() % 12)).map { _ in Int(g.next() % 20) }
        let choice = { (values: [Double]) in values[Int(g.next() % UInt64(values.count))] }
        let p = SamplingParameters(
            temperature: choice([0, 0.3, 0.7, 1, 1.5]), topP: choice([1, 0.9, 0.5, 0.2]),
            topK: [nil, -1, 0, 1, 5, 40][Int(g.next() % 6)], minP: choice([0, 0, 0.05, 0.3]),
            presencePenalty: choice([0, 0.5, -1]), frequencyPenalty: choice([0, 0.3, 1.2]),
            repetitionPenalty: choice([1, 1.2, 0.8]), logitBias: g.next() % 2 == 0 ? [:] : [3: 7, 4: -150, 5: 2.5],
            minTokens: Int(g.next() % 3) * 6, stopTokenIDs: [7])
        let sampler = probabilities(logits, p, eos: [0], prompt: prompt, output: output)
        let reference = SamplingReference.probabilities(logits, p, eos: [0], prompt: prompt, output: output)
        expectClose(sampler, reference, "\(p)")
    }

    /// The frequencies of draws with top-k 3, temperature 0.7 and a presence penalty follow the
    /// distribution the reference computes.
    @Test func drawFrequenciesFollowTheProcessedDistribution() {
        let logits: [Float] = [0.2, 1.0, 0.4, 1.3, -0.5, 0.9]
        let p = SamplingParameters(temperature: 0.7, topK: 3, presencePenalty: 0.4, seed: 11)
        let output = [3]
        let expected = SamplingReference.probabilities(logits, p, output: output)
        var s = Sampler(parameters: p)
        let n = 20000
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<n {
            counts[logits.withUnsafeBufferPointer { s.sample($0, promptTokenIDs: [], outputTokenIDs: output).tokenID }] += 1
        }
        for i in logits.indices {
            #expect(abs(Double(counts[i]) / Double(n) - expected[i]) < 0.015, "token \(i): \(counts[i]) vs \(expected[i])")
        }
        #expect(counts[4] == 0 && counts[0] == 0 && counts[2] == 0)
    }

    /// A seeded request draws the same tokens alone and in a batch of 8 with other requests
    /// (other seeds, greedy rows, penalties), whatever its row.
    @Test func seededRequestIsIndependentOfTheBatch() {
        let vocab = 500
        let target = SamplingParameters(temperature: 0.9, topP: 0.95, topK: 50, presencePenalty: 0.5, seed: 42)
        func logits(step: Int, row: Int) -> [Float] {
            SamplingReference.logits(count: vocab, seed: UInt64(step * 1000 + row), scale: 3)
        }
        // Alone: the target's logits at step t are logits(t, 0).
        var alone = Sampler(parameters: target)
        var aloneTokens: [Int] = []
        var batch = BatchSampler()
        for t in 0..<30 {
            let row = logits(step: t, row: 0)
            let token = row.withUnsafeBufferPointer { alone.sample($0, promptTokenIDs: [1, 2], outputTokenIDs: aloneTokens, workspace: &batch.workspace) }
            aloneTokens.append(token.tokenID)
        }
        // In a batch of 8, the target sits in row 3.
        var samplers = (0..<8).map { r -> Sampler in
            if r == 3 { return Sampler(parameters: target) }
            return Sampler(parameters: SamplingParameters(temperature: r % 2 == 0 ? 0 : 1.2, topK: r, repetitionPenalty: 1.1, seed: UInt64(r)))
        }
        var outputs = [[Int]](repeating: [], count: 8)
        var results: [SampledToken] = []
        var other = BatchSampler()
        for t in 0..<30 {
            var flat: [Float] = []
            for r in 0..<8 { flat += logits(step: t, row: r == 3 ? 0 : 100 + r) }
            flat.withUnsafeBufferPointer {
                other.sample(logits: $0, vocabularySize: vocab, samplers: &samplers,
                             promptTokenIDs: (0..<8).map { $0 == 3 ? [1, 2] : [$0] }, outputTokenIDs: outputs, into: &results)
            }
            for r in 0..<8 { outputs[r].append(results[r].tokenID) }
        }
        #expect(outputs[3] == aloneTokens)
        #expect(Set(aloneTokens).count > 5, "the test actually samples")
    }

    @Test func unseededRequestsDiffer() {
        let logits = SamplingReference.logits(count: 1000, seed: 3, scale: 1)
        let runs = (0..<2).map { _ in
            var s = Sampler(parameters: SamplingParameters(temperature: 1))
            return (0..<20).map { _ in logits.withUnsafeBufferPointer { s.sample($0) } }
        }
        #expect(runs[0] != runs[1])
    }
}
