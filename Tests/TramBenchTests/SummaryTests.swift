import Testing
import TramBench

/// Expected values are numpy's (`np.percentile`, `np.median`, `np.std`, `np.mean`).
struct SummaryTests {
    static let samples = [0.031, 0.5, 0.012, 0.7, 0.33, 0.2, 0.9, 0.15, 0.42, 0.061]

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }

    @Test func matchesNumpy() {
        let s = Summary(Self.samples, percentiles: [99, 90, 25, 99.9])
        #expect(Self.close(s.mean, 0.33039999999999997))
        #expect(Self.close(s.median, 0.265))
        #expect(Self.close(s.std, 0.2847778783543413))
        let expected = [(99.0, 0.882), (90, 0.7199999999999999), (25, 0.08324999999999999), (99.9, 0.8982000000000003)]
        #expect(s.percentiles.count == expected.count)
        for ((p, value), (q, want)) in zip(s.percentiles, expected) {
            #expect(p == q)
            #expect(Self.close(value, want), "P\(p)")
        }
    }

    @Test func smallCases() {
        let s = Summary([4, 1, 3, 2], percentiles: [99, 100, 50])
        #expect(Self.close(s.percentiles[0].1, 3.97))
        #expect(s.percentiles[1].1 == 4)
        #expect(s.percentiles[2].1 == 2.5 && s.median == 2.5)
        #expect(Self.close(s.std, 1.118033988749895))
        let one = Summary([7], percentiles: [99])
        #expect(one.mean == 7 && one.median == 7 && one.std == 0 && one.percentiles[0].1 == 7)
    }

    /// vLLM's `np.mean(values or 0)`: no samples report zeros, not NaN.
    @Test func emptyIsZero() {
        let s = Summary([], percentiles: [99])
        #expect(s.mean == 0 && s.median == 0 && s.std == 0 && s.percentiles[0].1 == 0)
    }
}
