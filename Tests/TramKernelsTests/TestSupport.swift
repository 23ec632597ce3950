import CTramKernels
import Foundation
import Testing
import TramKernels

/// Deterministic xorshift generator so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 32) }
}

/// Random floats in [-1, 1) with a few outliers, as activations tend to have.
func makeActivations(count: Int, seed: UInt64) -> [Float] {
    var rng = TestRandom(seed: seed)
    return (0..<count).map { i in rng.float(-1, 1) * (i % 97 == 5 ? 8 : 1) }
}

/// A weight matrix of random contents in `type`'s encoding. Quantized blocks are random bytes
/// (every bit pattern, including −128 in Q8_0) with small random f16 scales written over the
/// scale fields, so values stay in a realistic range.
func makeWeights(_ type: DataType, rows: Int, columns: Int, seed: UInt64) -> WeightMatrix {
    var rng = TestRandom(seed: seed)
    let count = rows * type.rowBytes(columns: columns)
    var bytes = [UInt8](repeating: 0, count: count)
    func half(_ value: Float) -> (UInt8, UInt8) {
        let bits = Float16(value).bitPattern
        return (UInt8(bits & 0xFF), UInt8(bits >> 8))
    }
    switch type {
    case .f32:
        for i in 0..<rows * columns {
            let bits = rng.float(-1, 1).bitPattern
            for k in 0..<4 { bytes[4 * i + k] = UInt8(truncatingIfNeeded: bits >> (8 * k)) }
        }
    case .f16:
        for i in 0..<rows * columns { (bytes[2 * i], bytes[2 * i + 1]) = half(rng.float(-1, 1)) }
    case .bf16:
        for i in 0..<rows * columns {
            let bits = rng.float(-1, 1).bitPattern >> 16
            (bytes[2 * i], bytes[2 * i + 1]) = (UInt8(bits & 0xFF), UInt8(bits >> 8))
        }
    default:
        for i in 0..<count { bytes[i] = rng.byte() }
        let scaleOffsets = type.scaleFieldOffsets
        for block in 0..<count / type.blockBytes {
            for offset in scaleOffsets {
                let at = block * type.blockBytes + offset
                (bytes[at], bytes[at + 1]) = half(rng.float(-0.02, 0.02))
            }
        }
    }
    return bytes.withUnsafeBytes { WeightMatrix(type: type, rows: rows, columns: columns, copying: $0) }
}

/// Naive reference twin of `KernelContext.matmul`: dequantized weights times the activations the
/// kernel really sees (quantized and decoded back), accumulated in Double. Also returns, per
/// output, Σ|w·x| — the scale of the float rounding the kernel may legitimately add.
func referenceMatmul(_ w: WeightMatrix, _ x: [Float], tokens: Int) -> (y: [Double], magnitude: [Double]) {
    let wf = w.dequantizedToFloat32()
    let weights = wf.data.assumingMemoryBound(to: Float.self)
    var xq = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { src in
        xq.withUnsafeMutableBufferPointer { dst in
            for t in 0..<tokens {
                activationRoundTrip(for: w.type, src.baseAddress! + t * w.columns, count: w.columns, into: dst.baseAddress! + t * w.columns)
            }
        }
    }
    var y = [Double](repeating: 0, count: tokens * w.rows), magnitude = y
    for t in 0..<tokens {
        for r in 0..<w.rows {
            var sum = 0.0, abs = 0.0
            for c in 0..<w.columns {
                let p = Double(weights[r * w.columns + c]) * Double(xq[t * w.columns + c])
                sum += p
                abs += Swift.abs(p)
            }
            y[t * w.rows + r] = sum
            magnitude[t * w.rows + r] = abs
        }
    }
    withExtendedLifetime(wf) {}
    return (y, magnitude)
}

/// Records an issue for each output (up to 3) farther from the Double reference than float32
/// rounding allows: (columns + 8)·2⁻²⁴·Σ|w·x| (see matmulMatchesReference for why).
func expectWithinRoundingOfReference(_ y: [Float], _ reference: [Double], magnitude: [Double], columns: Int) {
    let eps = 1.0 / Double(1 << 24)
    var failures = 0
    for i in 0..<y.count {
        let bound = Double(columns + 8) * eps * magnitude[i] + 1e-30
        if !(abs(Double(y[i]) - reference[i]) <= bound) {
            failures += 1
            if failures <= 3 { Issue.record("y[\(i)] = \(y[i]), reference \(reference[i]), bound \(bound)") }
        }
    }
}

extension KernelContext {
    func matmul(_ w: WeightMatrix, _ x: [Float], tokens: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
        }
        return y
    }
}

/// The C kernels' number for an ISA (for calling `ctram_tile_kernel` directly).
func cISA(_ isa: KernelISA) -> Int32 {
    switch isa {
    case .scalar: Int32(CTRAM_ISA_SCALAR)
    case .avx2: Int32(CTRAM_ISA_AVX2)
    case .avx512vnni: Int32(CTRAM_ISA_AVX512VNNI)
    }
}
