import Foundation

// f32 helpers for the forward pass: plain functions over raw buffers with explicit sizes,
// Swift SIMD16 with a scalar tail, no allocation. Each row is computed on its own, so results
// never depend on the batch around them.

/// Σ a[i]·b[i] over `count` floats (4 SIMD16 accumulators, fixed-order reduction).
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= count {
        s0.addProduct(load16(a, i), load16(b, i))
        s1.addProduct(load16(a, i + 16), load16(b, i + 16))
        s2.addProduct(load16(a, i + 32), load16(b, i + 32))
        s3.addProduct(load16(a, i + 48), load16(b, i + 48))
        i += 64
    }
    while i + 16 <= count {
        s0.addProduct(load16(a, i), load16(b, i))
        i += 16
    }
    var sum = reduceSum((s0 + s1) + (s2 + s3))
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// Σ x[i]² over `count` floats.
@inline(__always)
private func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float { dot(x, x, count: count) }

/// RMS norm of one vector: out[i] = x[i] · weight[i] / sqrt(mean(x²) + eps).
/// x, weight, out: [count]. `out` may alias `x`.
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, out: UnsafeMutablePointer<Float>, count: Int) {
    let scale = 1 / (sumOfSquares(x, count: count) / Float(count) + eps).squareRoot()
    let s = SIMD16<Float>(repeating: scale)
    var i = 0
    while i + 16 <= count {
        store16(out, i, load16(x, i) * s * load16(weight, i))
        i += 16
    }
    while i < count {
        out[i] = x[i] * scale * weight[i]
        i += 1
    }
}

/// RMS norm of each row: x, out: [rows, dim]; weight: [dim]. `out` may alias `x`.
public func rmsNorm(rows x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, out: UnsafeMutablePointer<Float>, rowCount: Int, dim: Int) {
    for r in 0..<rowCount {
        rmsNorm(x + r * dim, weight: weight, eps: eps, out: out + r * dim, count: dim)
    }
}

/// SwiGLU's gate: out[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^−g).
/// gate, up, out: [count]; `out` may alias either input.
public func siluMultiply(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        let g = load16(gate, i)
        store16(out, i, g / (1 + exp16(-g)) * load16(up, i))
        i += 16
    }
    while i < count {
        let g = gate[i]
        out[i] = g / (1 + Foundation.exp(-g)) * up[i]
        i += 1
    }
}

/// GeGLU's gate (Gemma): out[i] = gelu_tanh(gate[i]) · up[i], with the tanh approximation
/// gelu_tanh(g) = ½·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))) that PyTorch's `gelu(approximate="tanh")`
/// and ggml's `gelu` compute. Since ½·(1 + tanh(u)) = 1 / (1 + e^(−2u)), it is evaluated as
/// g / (1 + e^(−2u)), silu's shape: one exponential, and no tanh to lose precision near 0.
/// gate, up, out: [count]; `out` may alias either input.
public func geluTanhMultiply(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
    let c = Float(2 * (2 / Double.pi).squareRoot())  // 2·√(2/π)
    let cubic: Float = 0.044_715
    var i = 0
    while i + 16 <= count {
        let g = load16(gate, i)
        let twoU = SIMD16(repeating: c) * g.addingProduct(SIMD16(repeating: cubic) * g * g, g)
        store16(out, i, g / (1 + exp16(-twoU)) * load16(up, i))
        i += 16
    }
    while i < count {
        let g = gate[i]
        let twoU = c * (g + cubic * g * g * g)
        out[i] = g / (1 + Foundation.exp(-twoU)) * up[i]
        i += 1
    }
}

/// In-place softmax over `count` floats: subtracts the max first, so large logits never overflow.
/// -infinity entries (masked positions) become 0. count must be ≥ 1.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var m = -Float.infinity
    for i in 0..<count { m = max(m, x[i]) }
    var sum: Float = 0
    for i in 0..<count {
        let e = Foundation.exp(x[i] - m)
        x[i] = e
        sum += e
    }
    scale(x, by: 1 / sum, count: count)
}

/// Residual add in place: x[i] += y[i]. x, y: [count].
public func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(x, i, load16(x, i) + load16(y, i))
        i += 16
    }
    while i < count {
        x[i] += y[i]
        i += 1
    }
}

/// In place: x[i] *= factor. x: [count].
public func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
    let f = SIMD16<Float>(repeating: factor)
    var i = 0
    while i + 16 <= count {
        store16(x, i, load16(x, i) * f)
        i += 16
    }
    while i < count {
        x[i] *= factor
        i += 1
    }
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ v: SIMD16<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// e^x for 16 lanes: 2^k · p(r) with x = k·ln2 + r, |r| ≤ ln2/2, degree-6 Taylor polynomial
/// (relative error < 1e-6); 0 below −87.3 (no subnormals) and +inf above 88.
@inline(__always)
func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    // `clamped(lowerBound:upperBound:)` and `SIMD16<Int32>(_: SIMD16<Float>)` are generic in
    // the standard library and ran as out-of-line calls (12% of a decode step in perf); masks
    // and the float "magic number" conversion below lower to plain vector instructions.
    var clamped = x.replacing(with: SIMD16(repeating: -87.3), where: x .< -87.3)
    clamped.replace(with: SIMD16(repeating: 88), where: clamped .> 88)
    let k = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
    // r = x − k·ln2 with ln2 split in two so r stays exact to float precision
    let r = clamped.addingProduct(k, SIMD16(repeating: -0.693_145_75)).addingProduct(k, SIMD16(repeating: -1.428_606_8e-6))
    var p = SIMD16<Float>(repeating: 1.0 / 720)
    p = SIMD16(repeating: 1.0 / 120).addingProduct(p, r)
    p = SIMD16(repeating: 1.0 / 24).addingProduct(p, r)
    p = SIMD16(repeating: 1.0 / 6).addingProduct(p, r)
    p = SIMD16(repeating: 0.5).addingProduct(p, r)
    p = SIMD16(repeating: 1).addingProduct(p, r)
    p = SIMD16(repeating: 1).addingProduct(p, r)
    // k is an integer in [-126, 127]: adding 1.5·2^23 puts it in the low mantissa bits.
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let kInt = unsafeBitCast(k + magic, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let bits = (kInt &+ 127) &<< 23
    var result = p * unsafeBitCast(bits, to: SIMD16<Float>.self)
    result.replace(with: SIMD16(repeating: .infinity), where: x .> 88)
    result.replace(with: SIMD16(repeating: 0), where: x .< -87.3)
    return result
}
