import Foundation
import Testing
import TramKernels

private func close(_ a: Float, _ b: Double, relative: Double = 1e-5) -> Bool {
    abs(Double(a) - b) <= relative * max(1, abs(b))
}

@Test(arguments: [1, 15, 16, 100, 576])
func rmsNormMatchesReference(count: Int) {
    let x = makeActivations(count: count, seed: 1), weight = makeActivations(count: count, seed: 2)
    var out = [Float](repeating: 0, count: count)
    rmsNorm(x, weight: weight, eps: 1e-5, out: &out, count: count)
    let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)
    let inv = 1 / (meanSquare + 1e-5).squareRoot()
    for i in 0..<count { #expect(close(out[i], Double(x[i]) * inv * Double(weight[i]))) }

    var rowsOut = [Float](repeating: 0, count: 3 * count)
    let three = x + x.map { $0 * 2 } + x
    rmsNorm(rows: three, weight: weight, eps: 1e-5, out: &rowsOut, rowCount: 3, dim: count)
    #expect(Array(rowsOut[0..<count]) == out)
    #expect(Array(rowsOut[2 * count..<3 * count]) == out)
}

@Test(arguments: [7, 16, 1536])
func siluMultiplyMatchesReference(count: Int) {
    let gate = makeActivations(count: count, seed: 3).map { $0 * 12 }, up = makeActivations(count: count, seed: 4)
    var out = [Float](repeating: 0, count: count)
    siluMultiply(gate: gate, up: up, out: &out, count: count)
    for i in 0..<count {
        let g = Double(gate[i])
        #expect(close(out[i], g / (1 + Foundation.exp(-g)) * Double(up[i])))
    }
    var extreme: [Float] = [-100, -88, 88, 100, 0] + [Float](repeating: 1, count: 11)
    let ones = [Float](repeating: 1, count: 16)
    siluMultiply(gate: extreme, up: ones, out: &extreme, count: 16)
    #expect(extreme[0] == 0 && extreme[1] > -1e-30 && extreme[2] == 88 && extreme[3] == 100 && extreme[4] == 0)
}

/// GeGLU against the tanh formula in Double (PyTorch's `gelu(approximate="tanh")`), and its
/// limits: large negative gates give 0 (not NaN), large positive ones the gate itself.
@Test(arguments: [7, 16, 2048])
func geluTanhMultiplyMatchesReference(count: Int) {
    let gate = makeActivations(count: count, seed: 13).map { $0 * 6 }, up = makeActivations(count: count, seed: 14)
    var out = [Float](repeating: 0, count: count)
    geluTanhMultiply(gate: gate, up: up, out: &out, count: count)
    for i in 0..<count {
        let g = Double(gate[i])
        let gelu = 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)))
        #expect(abs(Double(out[i]) - gelu * Double(up[i])) <= 1e-5 * max(1, abs(gelu * Double(up[i]))), "\(g)")
    }
    var extreme: [Float] = [-100, -10, 10, 100, 0, -1e-8] + [Float](repeating: 1, count: 10)
    let ones = [Float](repeating: 1, count: 16)
    geluTanhMultiply(gate: extreme, up: ones, out: &extreme, count: 16)
    #expect(extreme[0] == 0 && abs(extreme[1]) < 1e-20 && extreme[2] == 10 && extreme[3] == 100 && extreme[4] == 0)
    #expect(abs(extreme[5] + 0.5e-8) < 1e-12)
}

@Test func softmaxIsStableAndNormalised() {
    var x: [Float] = [1000, 999, -Float.infinity, 998]
    softmax(&x, count: 4)
    let e1 = Foundation.exp(-1.0), e2 = Foundation.exp(-2.0), total = 1 + e1 + e2
    #expect(close(x[0], 1 / total) && close(x[1], e1 / total) && x[2] == 0 && close(x[3], e2 / total))
}

@Test func dotAddScale() {
    let a = makeActivations(count: 203, seed: 5), b = makeActivations(count: 203, seed: 6)
    let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(close(dot(a, b, count: 203), expected, relative: 1e-5))
    var c = a
    add(&c, b, count: 203)
    #expect(c == zip(a, b).map { $0 + $1 })
    scale(&c, by: 0.5, count: 203)
    #expect(c == zip(a, b).map { ($0 + $1) * 0.5 })
}
