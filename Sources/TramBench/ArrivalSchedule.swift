import Foundation

/// When each request is sent, as vLLM's `get_request` decides: at once for an infinite rate;
/// otherwise gaps drawn from a Gamma distribution with shape `burstiness` and mean 1/rate —
/// burstiness 1 is the exponential gap of a Poisson process, below 1 burstier, above 1 more
/// even, infinity a fixed 1/rate.
///
/// The gaps are then scaled so that the last request goes out at exactly count/rate seconds:
/// the sum of random gaps strays a few percent from that, and without the scaling throughput
/// measured with different seeds would differ by as much.
package enum ArrivalSchedule {
    /// Send times in seconds from the start, one per request, non-decreasing.
    package static func offsets(
        count: Int, requestRate: Double, burstiness: Double, using generator: inout some RandomNumberGenerator
    ) -> [Double] {
        precondition(requestRate > 0 && burstiness > 0, "validated by the caller")
        guard count > 0 else { return [] }
        guard requestRate.isFinite else { return Array(repeating: 0, count: count) }
        var offsets: [Double] = []
        offsets.reserveCapacity(count)
        var total = 0.0
        for _ in 0..<count {
            let gap = burstiness.isInfinite
                ? 1 / requestRate
                : GammaDistribution(shape: burstiness, scale: 1 / (requestRate * burstiness)).sample(using: &generator)
            total += gap
            offsets.append(total)
        }
        if total > 0 {
            let factor = Double(count) / requestRate / total
            offsets = offsets.map { $0 * factor }
        }
        return offsets
    }
}
