import Foundation

/// Gamma(shape k, scale θ): mean kθ, variance kθ². Sampled with Marsaglia and Tsang's method
/// ("A simple method for generating gamma variables", 2000); a shape below 1 is boosted to
/// k+1 and scaled by U^(1/k).
package struct GammaDistribution: Sendable {
    package var shape: Double
    package var scale: Double

    package init(shape: Double, scale: Double) {
        precondition(shape > 0 && scale > 0, "validated by the caller")
        self.shape = shape
        self.scale = scale
    }

    package func sample(using generator: inout some RandomNumberGenerator) -> Double {
        if shape < 1 {
            let boosted = GammaDistribution(shape: shape + 1, scale: scale).sample(using: &generator)
            return boosted * pow(Self.openUnit(&generator), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = Self.standardNormal(&generator)
            var v = 1 + c * x
            guard v > 0 else { continue }
            v = v * v * v
            let u = Self.openUnit(&generator)
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) {
                return d * v * scale
            }
        }
    }

    /// Uniform in (0, 1): never 0, so that its logarithm is finite.
    static func openUnit(_ generator: inout some RandomNumberGenerator) -> Double {
        (Double(generator.next() >> 11) + 0.5) * 0x1p-53
    }

    /// Box–Muller; one of the pair is enough here.
    static func standardNormal(_ generator: inout some RandomNumberGenerator) -> Double {
        let u1 = openUnit(&generator)
        let u2 = openUnit(&generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
