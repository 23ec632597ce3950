#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding.
///
/// Two conventions exist for which elements of a head form a rotating pair:
/// - `.adjacentPairs`: (x[2i], x[2i+1]) — what GGUF Llama files need, because llama.cpp's
///   converter permutes the q/k weight rows of Hugging Face checkpoints into this order;
/// - `.halves`: (x[i], x[i + d/2]) — Hugging Face's `rotate_half`, right for weights as HF stores them.
/// Both rotate pair i by `position · invFreq[i]`. Picking the wrong one still yields fluent
/// text from this model, so only logit comparisons against a reference catch it.
public enum RopeStyle: Sendable, Equatable {
    case adjacentPairs
    case halves
}

/// Precomputed cos/sin of every (position, pair) so the forward pass does no transcendental math.
public final class RopeTable: @unchecked Sendable {
    public let style: RopeStyle
    public let headDim: Int
    /// Number of rotated dimensions (≤ headDim; the rest pass through unchanged).
    public let rotaryDim: Int
    public let maxPositions: Int
    // [maxPositions, rotaryDim / 2] each
    private let cos: UnsafeMutablePointer<Float>
    private let sin: UnsafeMutablePointer<Float>

    /// - Parameter inverseFrequencies: `rotaryDim / 2` values, `theta^(-2i/rotaryDim)` possibly
    ///   rescaled (Llama 3 scaling, GGUF `rope_freqs`).
    public init(style: RopeStyle, headDim: Int, rotaryDim: Int, maxPositions: Int, inverseFrequencies: [Double]) {
        precondition(rotaryDim % 2 == 0 && rotaryDim <= headDim && inverseFrequencies.count == rotaryDim / 2)
        self.style = style
        self.headDim = headDim
        self.rotaryDim = rotaryDim
        self.maxPositions = maxPositions
        let half = rotaryDim / 2
        cos = .allocate(capacity: maxPositions * half)
        sin = .allocate(capacity: maxPositions * half)
        for p in 0..<maxPositions {
            for i in 0..<half {
                let angle = Double(p) * inverseFrequencies[i]
                cos[p * half + i] = Float(Foundation_cos(angle))
                sin[p * half + i] = Float(Foundation_sin(angle))
            }
        }
    }

    deinit {
        cos.deallocate()
        sin.deallocate()
    }

    /// The standard inverse frequencies `theta^(-2i/dim)`.
    public static func inverseFrequencies(theta: Double, rotaryDim: Int) -> [Double] {
        (0..<(rotaryDim / 2)).map { i in 1.0 / pow(theta, Double(2 * i) / Double(rotaryDim)) }
    }

    /// Rotates `heads` heads of every token in place.
    /// - Parameters:
    ///   - x: `[tokens, heads, headDim]`, rows `rowStride` floats apart.
    ///   - positions: `[tokens]`, each `< maxPositions` (checked by the caller).
    public func apply(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, rowStride: Int, positions: UnsafePointer<Int32>) {
        let half = rotaryDim / 2
        for t in 0..<tokens {
            let p = Int(positions[t])
            let c = cos + p * half
            let s = sin + p * half
            for h in 0..<heads {
                let v = x + t * rowStride + h * headDim
                switch style {
                case .adjacentPairs:
                    for i in 0..<half {
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c[i] - b * s[i]
                        v[2 * i + 1] = a * s[i] + b * c[i]
                    }
                case .halves:
                    for i in 0..<half {
                        let a = v[i], b = v[i + half]
                        v[i] = a * c[i] - b * s[i]
                        v[i + half] = b * c[i] + a * s[i]
                    }
                }
            }
        }
    }
}

@inline(__always) private func Foundation_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func Foundation_sin(_ x: Double) -> Double { sin(x) }
