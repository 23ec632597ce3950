import Foundation
import Synchronization
import Testing
import TramEngine
import TramModels
import TramTestSupport

/// Bans some tokens and records what it was told: the request's sampled tokens, in order.
final class BanningProcessor: LogitsProcessor, @unchecked Sendable {
    let banned: Set<Int>
    /// When set, every token but this one is banned.
    let only: Int?
    private(set) var accepted: [Int] = []
    private(set) var applications = 0

    init(banned: Set<Int> = [], only: Int? = nil) {
        self.banned = banned
        self.only = only
    }

    func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        applications += 1
        if let only {
            for i in logits.indices where i != only { logits[i] = -.infinity }
        }
        for id in banned { logits[id] = -.infinity }
    }

    func accept(_ tokenID: Int) { accepted.append(tokenID) }
}

/// The per-request logits-processor slot (what structured outputs fill): one processor per
/// sample, applied before every other processor, told each sampled token.
extension EngineCoreTests {
    @Test func aRequestsLogitsProcessorShapesItsOutputAlone() throws {
        try ModelTestLock.run {
            let core = try EngineCore(model: Self.float32.get(), configuration: EngineConfiguration(maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2))
            let prompt = [1, 504, 3458, 282, 4649, 314]
            let plain = try run(core, [("plain", EngineRequest(promptTokenIDs: prompt, parameters: greedy(4, ignoreEOS: true)))])
            let unconstrained = try #require(plain["plain"]?.tokens[0])

            // Only one token allowed: every output token is it, even with a penalty that pushes
            // against repeating it (the mask comes first).
            var p = greedy(4, ignoreEOS: true)
            p.repetitionPenalty = 1.3
            let only = BanningProcessor(only: 30)
            let made = Mutex(0)
            let forced = try run(core, [("only", EngineRequest(promptTokenIDs: prompt, parameters: p, makeLogitsProcessor: {
                made.withLock { $0 += 1 }
                return only
            }))])
            #expect(forced["only"]?.tokens[0] == [30, 30, 30, 30])
            #expect(only.accepted == [30, 30, 30, 30] && only.applications == 4)
            #expect(made.withLock { $0 } == 1)

            // Banning the unconstrained first token changes the first token; two samples get
            // two processors, each told its own sample's tokens; a request beside them without a
            // processor is unchanged.
            var two = greedy(4, ignoreEOS: true)
            two.n = 2
            let processors = Mutex<[BanningProcessor]>([])
            let banned = try run(core, [
                ("banned", EngineRequest(promptTokenIDs: prompt, parameters: two, makeLogitsProcessor: {
                    let processor = BanningProcessor(banned: [unconstrained[0]])
                    processors.withLock { $0.append(processor) }
                    return processor
                })),
                ("beside", EngineRequest(promptTokenIDs: prompt, parameters: greedy(4, ignoreEOS: true))),
            ])
            let made2 = processors.withLock { $0 }
            #expect(made2.count == 2)
            for i in 0..<2 {
                let tokens = try #require(banned["banned"]?.tokens[i])
                #expect(tokens.first != unconstrained[0] && !tokens.contains(unconstrained[0]))
                #expect(made2.contains { $0.accepted == tokens })
            }
            #expect(banned["beside"]?.tokens[0] == unconstrained, "other requests are untouched")
        }
    }
}
