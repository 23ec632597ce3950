import TramRandom
import Foundation
import TramEngine

/// A naive, sort-everything twin of the sampler's pipeline, in Double, written from vLLM's
/// definitions: the probability of each token at the draw.
enum SamplingReference {
    static func probabilities(
        _ logits: [Float], _ p: SamplingParameters, eos: Set<Int> = [], prompt: [Int] = [], output: [Int] = []
    ) -> [Double] {
        var l = logits.map(Double.init)
        for (id, b) in p.logitBias where l.indices.contains(id) { l[id] += Double(min(100, max(-100, b))) }
        if output.count < p.minTokens {
            for id in Set(p.stopTokenIDs).union(p.ignoreEOS ? [] : eos) { l[id] = -.infinity }
        }
        if p.repetitionPenalty != 1 {
            for id in Set(prompt + output) { l[id] = l[id] > 0 ? l[id] / p.repetitionPenalty : l[id] * p.repetitionPenalty }
        }
        var counts: [Int: Int] = [:]
        for id in output { counts[id, default: 0] += 1 }
        for (id, c) in counts { l[id] -= p.frequencyPenalty * Double(c) + p.presencePenalty }
        var probs = [Double](repeating: 0, count: l.count)
        if p.temperature < 1e-5 {
            probs[argmax(l)] = 1
            return probs
        }
        l = l.map { $0 / p.temperature }
        let m = l.max()!
        probs = l.map { exp($0 - m) }
        if p.minP > 0 {
            let top = probs.max()!
            probs = probs.map { $0 < p.minP * top ? 0 : $0 }
        }
        let order = probs.indices.filter { probs[$0] > 0 }.sorted { l[$0] != l[$1] ? l[$0] > l[$1] : $0 < $1 }
        if let k = p.effectiveTopK, k < order.count {
            let kth = l[order[k - 1]]
            for i in order where l[i] < kth { probs[i] = 0 }
        }
        if p.topP < 1 {
            let kept = order.filter { probs[$0] > 0 }
            let total = kept.reduce(0) { $0 + probs[$1] }
            var before = 0.0
            for (rank, i) in kept.enumerated() {
                let q = probs[i] / total
                if rank > 0, before >= p.topP { probs[i] = 0 }
                before += q
            }
        }
        let total = probs.reduce(0, +)
        return probs.map { $0 / total }
    }

    static func argmax(_ l: [Double]) -> Int {
        var best = 0
        for i in l.indices where l[i] > l[best] { best = i }
        return best
    }

    /// Logits from a fixed stream: `count` values in [-scale, scale].
    static func logits(count: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var g = Xoshiro256(seed: seed)
        return (0..<count).map { _ in (g.nextUnitFloat() * 2 - 1) * scale }
    }
}
