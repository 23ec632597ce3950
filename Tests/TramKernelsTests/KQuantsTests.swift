import CTramKernels
import Testing
import TramKernels

/// A SIMD variant of a K-quant tile kernel (kquants.c), checked against the scalar one.
struct KQuantTileCase: CustomTestStringConvertible, Sendable {
    let type: DataType
    let isa: KernelISA
    var testDescription: String { "\(type)/\(isa)" }

    static let all: [KQuantTileCase] = [DataType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K].flatMap { type in
        KernelISA.supported.filter { $0 != .scalar }.map { KQuantTileCase(type: type, isa: $0) }
    }
}

/// Random K-quant weight rows whose blocks cycle through four kinds, so the extremes of every
/// field meet extreme activations:
///   0  random bytes (every scale, min and quant value), random-sign f16 scales
///   1  maximal quants and scales: every quant and scale bit set (Q6_K: scales alternating
///      −128 / 127; Q3_K: hmask set, so q = 3 with scale 31)
///   2  minimal quants: every quant byte 0 (Q4_K/Q5_K/Q2_K: only the min term is left; Q6_K
///      value −32 with every scale −128; Q3_K value −4 with every scale −32)
///   3  random bytes with negative d (and negative dmin)
/// [rows, blocks × blockBytes]
private func makeKQuantRows(_ type: DataType, rows: Int, blocks: Int, seed: UInt64) -> [UInt8] {
    var rng = TestRandom(seed: seed)
    var bytes = (0..<rows * blocks * type.blockBytes).map { _ in rng.byte() }
    func put(_ value: Float, at offset: Int) {
        let bits = Float16(value).bitPattern
        bytes[offset] = UInt8(bits & 0xFF)
        bytes[offset + 1] = UInt8(bits >> 8)
    }
    // byte ranges of the quant bits and of the packed scales (the f16 fields are elsewhere)
    let (quants, scales): (Range<Int>, Range<Int>) = switch type {
    case .q2_K: (16..<80, 0..<16)
    case .q3_K: (0..<96, 96..<108)
    case .q4_K: (16..<144, 4..<16)
    case .q5_K: (16..<176, 4..<16)
    default: (0..<192, 192..<208)  // q6_K
    }
    for k in 0..<rows * blocks {
        let base = k * type.blockBytes, kind = k % 4
        let sign: Float = kind == 3 ? -1 : (rng.next() & 1 == 0 ? 1 : -1)
        for offset in type.scaleFieldOffsets { put(sign * rng.float(0.001, 0.05), at: base + offset) }
        if kind == 1 {
            for o in quants { bytes[base + o] = 0xFF }
            for (g, o) in scales.enumerated() { bytes[base + o] = type == .q6_K ? (g % 2 == 0 ? 0x80 : 0x7F) : 0xFF }
        }
        if kind == 2 {
            for o in quants { bytes[base + o] = 0 }
            if type == .q6_K || type == .q3_K { for o in scales { bytes[base + o] = type == .q6_K ? 0x80 : 0 } }
        }
    }
    return bytes
}

/// Four activation rows of `blocks` Q8_K blocks: random with outliers; all +1 (every value 127,
/// the largest bsums); alternating ±1 (±127); random with its first block all zero (d = 0).
/// [4, blocks] ctram_block_q8k
private func makeQ8KRows(blocks: Int, seed: UInt64) -> [ctram_block_q8k] {
    let n = 256 * blocks
    let random = makeActivations(count: n, seed: seed), other = makeActivations(count: n, seed: seed + 1)
    let rows: [[Float]] = [
        random,
        [Float](repeating: 1, count: n),
        (0..<n).map { $0 % 2 == 0 ? 1 : -1 },
        (0..<n).map { $0 < 256 ? 0 : other[$0] * 3 },
    ]
    var out = [ctram_block_q8k](repeating: ctram_block_q8k(), count: 4 * blocks)
    out.withUnsafeMutableBufferPointer { dst in
        for (j, x) in rows.enumerated() { ctram_quantize_q8k(x, dst.baseAddress! + j * blocks, Int32(n)) }
    }
    return out
}

/// The nw × na tile at (row 0, activation 0) through `kernel`, in a y buffer 6 floats wide
/// (stride wider than nw) prefilled with NaN; returns that buffer, [4, 6].
private func runTile(_ kernel: ctram_tile_fn, nw: Int, na: Int, blocks: Int, weights: [UInt8], rowBytes: Int,
                     activations: [ctram_block_q8k]) -> [Float] {
    var y = [Float](repeating: .nan, count: 4 * 6)
    weights.withUnsafeBytes { w in
        activations.withUnsafeBytes { a in
            y.withUnsafeMutableBufferPointer { yp in
                kernel(Int32(nw), Int32(na), Int32(blocks), w.baseAddress!, rowBytes, a.baseAddress!,
                       blocks * MemoryLayout<ctram_block_q8k>.stride, yp.baseAddress!, 6)
            }
        }
    }
    return y
}

/// Each SIMD variant equals the scalar variant bit for bit, for every tile shape, on blocks with
/// extreme fields. Exact (not within a tolerance) because kquants.c is built for it: the integer
/// part of a block is exact in every variant, and the SIMD tiles then run per (row, activation)
/// pair the scalar's float update, operation for operation (same products, same fma, same order).
/// Comparing every SIMD shape with the scalar 4 × 4 tile also checks batch invariance across
/// shapes. The scalar results are checked against a Double reference so the equality is not
/// between two wrong answers, and entries outside a tile must stay untouched.
@Test(arguments: KQuantTileCase.all, [1, 2, 3, 7])
func kQuantSIMDTileEqualsScalar(_ c: KQuantTileCase, blocks: Int) throws {
    let simd = try #require(ctram_tile_kernel(c.type.ggmlTypeID, cISA(c.isa)))
    let scalar = try #require(ctram_tile_kernel(c.type.ggmlTypeID, cISA(.scalar)))
    // the dispatch really runs this ISA's own code, not a fallback to scalar
    #expect(ctram_tile_kernel_isa(c.type.ggmlTypeID, cISA(c.isa)) == cISA(c.isa))

    let rowBytes = blocks * c.type.blockBytes
    let weights = makeKQuantRows(c.type, rows: 4, blocks: blocks, seed: UInt64(31 * blocks))
    let activations = makeQ8KRows(blocks: blocks, seed: UInt64(blocks))
    let expected = runTile(scalar, nw: 4, na: 4, blocks: blocks, weights: weights, rowBytes: rowBytes, activations: activations)

    // the scalar tile against Dequantize.swift's weights times the decoded activations, within
    // matmulMatchesReference's bound: float32 rounding of block scales and running sums only
    let (reference, magnitude) = kQuantReference(c.type, weights: weights, rows: 4, activations: activations, blocks: blocks)
    let bound = Double(256 * blocks + 8) / Double(1 << 24)
    for i in 0..<4 {
        for j in 0..<4 {
            let got = Double(expected[j * 6 + i]), want = reference[i][j]
            #expect(abs(got - want) <= bound * magnitude[i][j] + 1e-30, "scalar (\(i), \(j)): \(got) vs reference \(want)")
        }
    }
    // real values: finite, and nonzero against the random and the all-127 activation rows (the
    // alternating row gives exactly 0 against constant blocks; the last is all zero at 1 block)
    for i in 0..<4 {
        for j in 0..<4 { #expect(expected[j * 6 + i].isFinite && (j >= 2 || expected[j * 6 + i] != 0), "scalar (\(i), \(j))") }
    }

    for nw in 1...4 {
        for na in 1...4 {
            let y = runTile(simd, nw: nw, na: na, blocks: blocks, weights: weights, rowBytes: rowBytes, activations: activations)
            for j in 0..<4 {
                for i in 0..<6 {
                    let v = y[j * 6 + i]
                    if j < na && i < nw {
                        #expect(v.bitPattern == expected[j * 6 + i].bitPattern,
                                "\(nw)×\(na) tile (\(i), \(j)): \(v) vs scalar \(expected[j * 6 + i])")
                    } else {
                        #expect(v.isNaN, "\(nw)×\(na) tile wrote outside itself at (\(i), \(j))")
                    }
                }
            }
        }
    }
}

/// Double-precision twin: dequantized weight rows · decoded activations, and Σ|w·x| per pair.
private func kQuantReference(_ type: DataType, weights: [UInt8], rows: Int, activations: [ctram_block_q8k], blocks: Int)
    -> (y: [[Double]], magnitude: [[Double]]) {
    let n = 256 * blocks
    var w = [Float](repeating: 0, count: rows * n)
    weights.withUnsafeBytes { src in
        w.withUnsafeMutableBufferPointer { dequantize(type, src.baseAddress!, $0.baseAddress!, count: rows * n) }
    }
    var x = [Double](repeating: 0, count: 4 * n)
    for (k, block) in activations.enumerated() {
        withUnsafeBytes(of: block.qs) { qs in
            for l in 0..<256 { x[256 * k + l] = Double(block.d) * Double(qs.load(fromByteOffset: l, as: Int8.self)) }
        }
    }
    var y = [[Double]](repeating: [Double](repeating: 0, count: 4), count: rows), magnitude = y
    for i in 0..<rows {
        for j in 0..<4 {
            for e in 0..<n {
                let p = Double(w[i * n + e]) * x[j * n + e]
                y[i][j] += p
                magnitude[i][j] += abs(p)
            }
        }
    }
    return (y, magnitude)
}
