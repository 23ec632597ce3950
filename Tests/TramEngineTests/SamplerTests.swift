import Testing
import TramTokenizer
import TramKernels
import TramEngine

@Suite struct SamplerTests {
    func sample(_ logits: [Float], _ p: SamplingParameters, times: Int = 1) -> [Int] {
        var s = Sampler(parameters: p)
        return (0..<times).map { _ in logits.withUnsafeBufferPointer { s.sample($0) } }
    }

    @Test func greedyTakesTheArgmaxAndBreaksTiesByLowestID() {
        #expect(sample([0.1, 3, -1, 2.9], SamplingParameters(temperature: 0)) == [1])
        #expect(sample([5, 1, 5], SamplingParameters(temperature: 0)) == [0])
        #expect(sample([-.infinity, -.infinity, 0], SamplingParameters(temperature: 0)) == [2])
    }

    @Test func topKOneAndTinyTopPAreGreedy() {
        let logits: [Float] = [0.5, 2, 1.9, -3]
        #expect(Set(sample(logits, SamplingParameters(temperature: 1, topK: 1, seed: 1), times: 50)) == [1])
        #expect(Set(sample(logits, SamplingParameters(temperature: 1, topP: 0.01, seed: 2), times: 50)) == [1])
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() {
        let logits = (0..<100).map { Float($0 % 7) * 0.3 }
        let p = SamplingParameters(temperature: 1, seed: 1234)
        #expect(sample(logits, p, times: 64) == sample(logits, p, times: 64))
        var q = p
        q.seed = 99
        #expect(sample(logits, p, times: 64) != sample(logits, q, times: 64))
    }

    /// Frequencies follow softmax(logits / T); with top-k the excluded tokens never appear.
    @Test func frequenciesFollowTheDistribution() {
        let logits: [Float] = [0, log(2), log(3), log(4)]  // probabilities 0.1, 0.2, 0.3, 0.4
        let n = 20000
        let draws = sample(logits, SamplingParameters(temperature: 1, seed: 7), times: n)
        var counts = [0, 0, 0, 0]
        for d in draws { counts[d] += 1 }
        for (i, expected) in [0.1, 0.2, 0.3, 0.4].enumerated() {
            #expect(abs(Double(counts[i]) / Double(n) - expected) < 0.015, "token \(i): \(counts[i])")
        }
        let topTwo = sample(logits, SamplingParameters(temperature: 1, topK: 2, seed: 8), times: 2000)
        #expect(Set(topTwo).isSubset(of: [2, 3]))
        // top_p 0.65 keeps {3, 2} (0.4 + 0.3 ≥ 0.65) and drops the rest.
        let nucleus = sample(logits, SamplingParameters(temperature: 1, topP: 0.65, seed: 9), times: 2000)
        #expect(Set(nucleus) == [2, 3])
    }

    @Test func topKZeroAndMinusOneAndNilDisableTopK() {
        let logits: [Float] = [0, log(2), log(3), log(4)]
        for k in [nil, 0, -1] as [Int?] {
            let draws = sample(logits, SamplingParameters(temperature: 1, topK: k, seed: 5), times: 400)
            #expect(Set(draws) == [0, 1, 2, 3], "top_k \(String(describing: k))")
        }
    }
}

import Foundation
