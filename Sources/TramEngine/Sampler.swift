#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks the next token from one row of logits: greedy at temperature 0, otherwise
/// temperature → top-k → softmax → top-p (nucleus) → draw with the request's generator.
/// `scratch` avoids allocating per token once it has grown to the vocabulary size.
public struct Sampler: Sendable {
    public var parameters: SamplingParameters
    private var generator: Xoshiro256
    private var candidates: [(id: Int32, logit: Float)] = []

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        var system = SystemRandomNumberGenerator()
        generator = Xoshiro256(seed: parameters.seed ?? system.next())
    }

    /// The index of the largest logit; ties go to the lowest id.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let p = parameters
        if p.temperature == 0 { return Sampler.argmax(logits) }
        let invT = Float(1 / p.temperature)
        candidates.removeAll(keepingCapacity: true)
        for (i, v) in logits.enumerated() where v > -Float.infinity {
            candidates.append((Int32(i), v * invT))
        }
        if candidates.isEmpty { return Sampler.argmax(logits) }
        // Sort descending by logit, ids ascending on ties, so the order never depends on chance.
        let k = p.topK.map { $0 > 0 ? min($0, candidates.count) : candidates.count } ?? candidates.count
        if k < candidates.count {
            candidates = Array(candidates.sorted(by: Sampler.order).prefix(k))
        } else if p.topP < 1 {
            candidates.sort(by: Sampler.order)
        }
        let maxLogit = candidates.reduce(-Float.infinity) { max($0, $1.logit) }
        var total: Float = 0
        for i in candidates.indices {
            let e = expf(candidates[i].logit - maxLogit)
            candidates[i].logit = e
            total += e
        }
        var limit = candidates.count
        if p.topP < 1 {
            // Keep the smallest prefix whose probability reaches top_p (at least one token).
            let threshold = Float(p.topP) * total
            var cumulative: Float = 0
            for (i, c) in candidates.enumerated() {
                cumulative += c.logit
                if cumulative >= threshold {
                    limit = i + 1
                    break
                }
            }
            total = candidates[..<limit].reduce(0) { $0 + $1.logit }
        }
        let u = generator.nextUnitFloat() * total
        var cumulative: Float = 0
        for c in candidates[..<limit] {
            cumulative += c.logit
            if u < cumulative { return Int(c.id) }
        }
        return Int(candidates[limit - 1].id)
    }

    private static func order(_ a: (id: Int32, logit: Float), _ b: (id: Int32, logit: Float)) -> Bool {
        a.logit != b.logit ? a.logit > b.logit : a.id < b.id
    }
}
