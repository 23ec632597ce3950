import TramRandom
import Foundation
import Testing
import TramEngine

@Suite struct TopKTopPTests {
    func kept(_ logits: [Float], topK: Int?, topP: Float) -> Set<Int32> {
        var c = logits.enumerated().map { Candidate(logit: $0.element, id: Int32($0.offset)) }
        return c.withUnsafeMutableBufferPointer { buffer in
            Set(buffer[TopKTopP.truncate(buffer, topK: topK, topP: topP)].map(\.id))
        }
    }

    @Test func topKKeepsTiesAtTheBoundaryAsVLLM() {
        #expect(kept([1, 3, 2, 2, 0], topK: 2, topP: 1) == [1, 2, 3])
        #expect(kept([1, 3, 2, 2, 0], topK: 1, topP: 1) == [1])
        #expect(kept([1, 3, 2, 2, 0], topK: 5, topP: 1) == [0, 1, 2, 3, 4])
    }

    @Test func topPKeepsTheSmallestPrefixReachingP() {
        let logits = [0.1, 0.2, 0.3, 0.4].map { Float(log($0)) }
        #expect(kept(logits, topK: nil, topP: 0.4) == [3])
        #expect(kept(logits, topK: nil, topP: 0.41) == [3, 2])
        #expect(kept(logits, topK: nil, topP: 0.65) == [3, 2])
        #expect(kept(logits, topK: nil, topP: 0.95) == [3, 2, 1, 0])
        #expect(kept(logits, topK: nil, topP: 1e-6) == [3])
        // top-k 3 renormalises to (0.22, 0.33, 0.44); 0.44 < 0.7 ≤ 0.78, so two stay.
        #expect(kept(logits, topK: 3, topP: 0.7) == [3, 2])
    }

    /// Random rows with many ties (logits on a 0.5 grid) against the sort-everything reference.
    @Test(arguments: 0..<40)
    func matchesTheSortingReference(seed: Int) {
        var g = Xoshiro256(seed: UInt64(seed))
        let n = 1 + Int(g.next() % 300)
        let logits = (0..<n).map { _ in Float(Int(g.next() % 16)) * 0.5 - 4 }
        let k: Int? = g.next() % 3 == 0 ? nil : 1 + Int(g.next() % UInt64(n + 2))
        let p: Float = g.next() % 3 == 0 ? 1 : 0.05 + 0.9 * g.nextUnitFloat()
        var params = SamplingParameters(topP: Double(p), topK: k)
        params.temperature = 1
        let reference = SamplingReference.probabilities(logits, params)
        let expected = Set(reference.indices.filter { reference[$0] > 0 }.map { Int32($0) })
        #expect(kept(logits, topK: k, topP: p) == expected, "n \(n) k \(String(describing: k)) p \(p)")
    }

    @Test func drawWalksTheCDF() {
        var c = [Candidate(logit: log(0.25), id: 7), Candidate(logit: log(0.75), id: 9)]
        let ids = [0, 0.2, 0.24, 0.26, 0.99, 0.999_999].map { coin in
            var copy = c
            return copy.withUnsafeMutableBufferPointer { TopKTopP.draw($0, coin: Float(coin)) }
        }
        #expect(ids == [7, 7, 7, 9, 9, 9])
        c = [Candidate(logit: 0, id: 3)]
        #expect(c.withUnsafeMutableBufferPointer { TopKTopP.draw($0, coin: 0.5) } == 3)
    }
}
