import Foundation
public import TramModels
import TramKernels

/// How many tokens to propose for a decoding request in the next step: the number that
/// maximises the tokens a step is expected to emit per unit of step time, given what verifying
/// (and drafting) costs on this machine and how often the request's recent proposals were
/// accepted. Zero when no proposal pays for itself.
///
/// Why it is needed: verification is cheap only while a step is memory-bound. Where one decode
/// step already keeps the vector units busy (a 1.5B Q4_K model on a 2-core AVX2 CPU: 2 query
/// rows cost 1.34× one, 4 rows 2.3×, 8 rows 4.8×), a rejected proposal costs a third of a step
/// and a long one can cost more than it saves even when accepted; on an AVX-512 machine the same
/// rows are nearly free, and longer proposals pay. So the costs are measured at start-up
/// (`measure`) rather than assumed.
///
/// The model: each proposed token is accepted with the request's rate α independently until
/// the first rejection (`AcceptanceEstimate`), so proposing m tokens emits 1 + α + … + α^m
/// tokens in expectation, for a step of cost `verifyCost[m] + draftCost · m` (in 1-row steps).
public struct SpeculationPolicy: Sendable, Equatable {
    /// `verifyCost[r - 1]`: a forward pass over r query rows of one sequence ÷ over 1 row.
    public var verifyCost: [Double]
    /// One draft-model forward of one row ÷ one target row (0 for prompt lookup).
    public var draftCost: Double

    public init(verifyCost: [Double], draftCost: Double = 0) {
        precondition(!verifyCost.isEmpty && verifyCost[0] == 1, "verifyCost starts at 1 row = 1")
        self.verifyCost = verifyCost
        self.draftCost = draftCost
    }

    /// Every proposal length costs one step: always propose as many as allowed.
    public static func free(maxTokens: Int) -> SpeculationPolicy {
        SpeculationPolicy(verifyCost: [Double](repeating: 1, count: maxTokens + 1))
    }

    /// A proposal must beat not proposing by this factor: measured costs are noisy, and a
    /// proposal that only breaks even adds latency variance for nothing.
    static let margin = 1.02

    /// The proposal length, 0…`limit`, for a request whose tokens are accepted at rate `acceptance`.
    public func proposalLength(acceptance: Double, limit: Int) -> Int {
        let maxM = min(limit, verifyCost.count - 1)
        guard maxM >= 1 else { return 0 }
        var best = 0, bestValue = 1.0
        var expected = 1.0, power = 1.0
        for m in 1...maxM {
            power *= acceptance
            expected += power
            let value = expected / (verifyCost[m] + draftCost * Double(m))
            if value > bestValue * (best == 0 ? Self.margin : 1) {
                best = m
                bestValue = value
            }
        }
        return best
    }

    /// Times forward passes of 1…`maxRows` rows of one sequence on the target (and one row on
    /// the draft), best of three after a warm-up, in KV blocks no request holds yet (at start-up
    /// every block is free; what is written there is overwritten before anything reads it).
    static func measure(target: ModelRunner, draft: ModelRunner?, maxRows: Int) throws(EngineError) -> SpeculationPolicy {
        let blockSize = target.cache.layout.blockSize
        let table = (0..<Int32((maxRows + blockSize - 1) / blockSize)).map { $0 }
        func time(_ runner: ModelRunner, rows: Int) throws(EngineError) -> Double {
            let chunk = ModelRunner.Chunk(tokens: [Int32](repeating: 0, count: rows), start: 0, blockTable: table, logitRows: Array(0..<rows))
            var best = Double.infinity
            for attempt in 0..<4 {
                let start = DispatchTime.now().uptimeNanoseconds
                try runner.execute([chunk]) { _ in }
                if attempt > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start)) }
            }
            return max(best, 1)
        }
        let one = try time(target, rows: 1)
        var costs = [1.0]
        for rows in stride(from: 2, through: maxRows, by: 1) {
            // Never below the previous count's cost: more rows cannot be cheaper, only noisier.
            costs.append(max(costs.last!, try time(target, rows: rows) / one))
        }
        let draftCost = try draft.map { runner throws(EngineError) in try time(runner, rows: 1) / one } ?? 0
        return SpeculationPolicy(verifyCost: costs, draftCost: draftCost)
    }

    /// "r rows: c×" for the start-up log.
    public var description: String {
        let rows = verifyCost.enumerated().map { String(format: "%d: %.2f×", $0.offset + 1, $0.element) }.joined(separator: ", ")
        return "verifying r rows costs (r: × one row) \(rows)" + (draftCost > 0 ? String(format: "; a draft step %.2f×", draftCost) : "")
    }
}

/// A request's recent acceptance rate: accepted proposal tokens against rejections (a
/// proposal ends at its first rejected token), decayed so the last few proposals count most,
/// with a prior of 2 accepted : 1 rejected (α = 2/3) for a request that has proposed nothing.
/// A request that is not proposing drifts back to the prior, so it tries again later: code
/// being copied after a stretch of prose is accepted again.
package struct AcceptanceEstimate: Sendable {
    var accepted = 0.0
    var rejected = 0.0

    package init() {}
    static let priorAccepted = 2.0, priorRejected = 1.0
    static let decay = 0.7, idleDecay = 0.85

    package var rate: Double {
        (accepted + Self.priorAccepted) / (accepted + rejected + Self.priorAccepted + Self.priorRejected)
    }

    package mutating func record(accepted a: Int, proposed: Int) {
        accepted = accepted * Self.decay + Double(a)
        rejected = rejected * Self.decay + (a < proposed ? 1 : 0)
    }

    package mutating func idle() {
        accepted *= Self.idleDecay
        rejected *= Self.idleDecay
    }
}
