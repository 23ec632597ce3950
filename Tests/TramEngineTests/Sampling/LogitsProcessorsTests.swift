import TramRandom
import Foundation
import Testing
import TramEngine

@Suite struct LogitsProcessorsTests {
    func processed(_ logits: [Float], _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Int32>) -> Void) -> ([Float], [Int32]) {
        var l = logits
        var counts = [Int32](repeating: 0, count: logits.count)
        l.withUnsafeMutableBufferPointer { l in counts.withUnsafeMutableBufferPointer { c in body(l, c) } }
        return (l, counts)
    }

    @Test func logitBiasIsAddedAndClampedToPlusMinus100() {
        let (out, _) = processed([1, 2, 3]) { l, _ in LogitsProcessors.applyLogitBias(l, [0: 5, 2: -200, 7: 1, -1: 3]) }
        #expect(out == [6, 2, -97])
    }

    /// Hand-computed: repetition 2 over prompt {0, 1} ∪ output {2, 3}; frequency 0.5 and
    /// presence 0.25 over the output [2, 2, 3].
    @Test func penaltiesMatchTheHandComputedValues() {
        let (out, counts) = processed([2, -1, 0.5, 3, 0]) { l, c in
            LogitsProcessors.applyPenalties(l, promptTokenIDs: [0, 1, 0], outputTokenIDs: [2, 2, 3],
                                            repetition: 2, frequency: 0.5, presence: 0.25, counts: c)
        }
        #expect(out == [1, -2, -1, 0.75, 0])
        #expect(counts.allSatisfy { $0 == 0 }, "scratch is left zeroed")
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func penaltiesMatchTheNaiveReference(seed: UInt64) {
        let vocab = 64
        let logits = SamplingReference.logits(count: vocab, seed: seed)
        var g = Xoshiro256(seed: seed + 100)
        let prompt = (0..<30).map { _ in Int(g.next() % UInt64(vocab)) }
        let output = (0..<20).map { _ in Int(g.next() % 16) }
        let p = SamplingParameters(presencePenalty: 0.7, frequencyPenalty: -0.3, repetitionPenalty: 1.3)
        let (out, counts) = processed(logits) { l, c in
            LogitsProcessors.applyPenalties(l, promptTokenIDs: prompt, outputTokenIDs: output, repetition: 1.3,
                                            frequency: -0.3, presence: 0.7, counts: c)
        }
        var greedy = p
        greedy.temperature = 0
        // The reference applies the same transform in Double; compare value by value.
        var reference = logits.map(Double.init)
        for id in Set(prompt + output) { reference[id] = reference[id] > 0 ? reference[id] / 1.3 : reference[id] * 1.3 }
        for (id, c) in Dictionary(output.map { ($0, 1) }, uniquingKeysWith: +) { reference[id] -= -0.3 * Double(c) + 0.7 }
        for i in 0..<vocab { #expect(abs(Double(out[i]) - reference[i]) < 1e-5, "token \(i)") }
        #expect(counts.allSatisfy { $0 == 0 })
    }

    @Test func minTokensMasksEOSAndStopIDsUntilReached() {
        // EOS (3) and the stop id (1) lead; greedy picks them only once min_tokens is reached.
        let logits: [Float] = [0, 4, 1, 5]
        let p = SamplingParameters(temperature: 0, minTokens: 2, stopTokenIDs: [1])
        var s = Sampler(parameters: p, eosTokenIDs: [3])
        func next(_ output: [Int]) -> Int {
            logits.withUnsafeBufferPointer { s.sample($0, promptTokenIDs: [], outputTokenIDs: output).tokenID }
        }
        #expect(next([]) == 2)
        #expect(next([2]) == 2)
        #expect(next([2, 2]) == 3)
        var ignore = p
        ignore.ignoreEOS = true
        var t = Sampler(parameters: ignore, eosTokenIDs: [3])
        // With ignore_eos, EOS is no stop token, so min_tokens leaves it alone.
        #expect(logits.withUnsafeBufferPointer { t.sample($0, promptTokenIDs: [], outputTokenIDs: []).tokenID } == 3)
    }

    @Test func temperatureDividesTheLogits() {
        let (out, _) = processed([1, -2, 0.5]) { l, _ in LogitsProcessors.applyTemperature(l, 0.5) }
        #expect(out == [2, -4, 1])
    }
}
