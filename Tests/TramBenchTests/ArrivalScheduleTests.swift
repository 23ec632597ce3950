import Testing
import TramBench
import TramTestSupport

struct ArrivalScheduleTests {
    static func gaps(_ offsets: [Double]) -> [Double] {
        zip(offsets, [0] + offsets.dropLast()).map { $0 - $1 }
    }

    static func meanAndCV(_ xs: [Double]) -> (mean: Double, cv: Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        return (mean, variance.squareRoot() / mean)
    }

    @Test func infiniteRateSendsAtOnce() {
        var g = SeededGenerator(seed: 1)
        #expect(ArrivalSchedule.offsets(count: 5, requestRate: .infinity, burstiness: 1, using: &g) == [0, 0, 0, 0, 0])
    }

    /// Gamma gaps with shape k have a coefficient of variation of 1/√k: 1 for Poisson.
    @Test(arguments: [(1.0, 1.0), (0.25, 2.0), (4.0, 0.5)])
    func gapStatistics(burstiness: Double, cv: Double) {
        var g = SeededGenerator(seed: 7)
        let n = 20_000
        let offsets = ArrivalSchedule.offsets(count: n, requestRate: 8, burstiness: burstiness, using: &g)
        #expect(offsets.count == n)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 })
        // Scaled so the last request leaves at count / rate exactly, as vLLM does.
        #expect(abs(offsets.last! - Double(n) / 8) < 1e-9)
        let stats = Self.meanAndCV(Self.gaps(offsets))
        #expect(abs(stats.mean - 1.0 / 8) < 1e-9)
        #expect(abs(stats.cv - cv) < 0.05 * cv, "CV \(stats.cv), expected \(cv)")
    }

    @Test func infiniteBurstinessIsEvenlySpaced() {
        var g = SeededGenerator(seed: 1)
        let offsets = ArrivalSchedule.offsets(count: 4, requestRate: 2, burstiness: .infinity, using: &g)
        #expect(offsets.enumerated().allSatisfy { abs($1 - Double($0 + 1) * 0.5) < 1e-12 })
    }

    @Test func sameSeedSameSchedule() {
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3), c = SeededGenerator(seed: 4)
        let x = ArrivalSchedule.offsets(count: 50, requestRate: 5, burstiness: 0.5, using: &a)
        #expect(x == ArrivalSchedule.offsets(count: 50, requestRate: 5, burstiness: 0.5, using: &b))
        #expect(x != ArrivalSchedule.offsets(count: 50, requestRate: 5, burstiness: 0.5, using: &c))
    }

    /// Mean kθ and variance kθ², below and above shape 1.
    @Test(arguments: [0.3, 1.0, 2.5, 9.0])
    func gammaMoments(shape: Double) {
        var g = SeededGenerator(seed: 11)
        let gamma = GammaDistribution(shape: shape, scale: 2)
        let xs = (0..<40_000).map { _ in gamma.sample(using: &g) }
        #expect(xs.allSatisfy { $0 > 0 && $0.isFinite })
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        #expect(abs(mean - 2 * shape) < 0.03 * 2 * shape, "mean \(mean)")
        #expect(abs(variance - 4 * shape) < 0.08 * 4 * shape, "variance \(variance)")
    }
}
