import CTramKernels
import Testing
import TramKernels

/// A SIMD variant of a 32-element block tile that works per block lane (lanes32.c: Q5_0, Q5_1,
/// IQ4_NL), checked against its scalar twin.
struct BlockLaneTileCase: CustomTestStringConvertible, Sendable {
    let type: DataType
    let isa: KernelISA
    var testDescription: String { "\(type)/\(isa)" }

    static let all: [BlockLaneTileCase] = [DataType.q5_0, .q5_1, .iq4_nl].flatMap { type in
        KernelISA.supported.filter { $0 != .scalar }.map { BlockLaneTileCase(type: type, isa: $0) }
    }
}

/// Random rows of 32-element blocks cycling through: random bytes; every quant bit set (the
/// largest q, and IQ4_NL's largest level 113); every quant bit clear (Q5_0 value −16, IQ4_NL
/// −127); random bytes with a negative scale (and min). [rows, blocks × blockBytes]
private func makeBlockRows(_ type: DataType, rows: Int, blocks: Int, seed: UInt64) -> [UInt8] {
    var rng = TestRandom(seed: seed)
    var bytes = (0..<rows * blocks * type.blockBytes).map { _ in rng.byte() }
    let fields = type.scaleFieldOffsets, quants = (2 * fields.count)..<type.blockBytes
    for k in 0..<rows * blocks {
        let base = k * type.blockBytes, kind = k % 4
        let sign: Float = kind == 3 ? -1 : (rng.next() & 1 == 0 ? 1 : -1)
        for offset in fields {
            let bits = Float16(sign * rng.float(0.001, 0.05)).bitPattern
            bytes[base + offset] = UInt8(bits & 0xFF)
            bytes[base + offset + 1] = UInt8(bits >> 8)
        }
        if kind == 1 { for o in quants { bytes[base + o] = 0xFF } }
        if kind == 2 { for o in quants { bytes[base + o] = 0 } }
    }
    return bytes
}

/// Four quantized activation rows (ctram_q8a): random with outliers, all +1 (every value 127),
/// alternating ±1, random with its first block zero (d = 0). One buffer, rows `stride` apart.
private func makeQ8ARows(blocks: Int, seed: UInt64) -> (buffer: UnsafeMutableRawPointer, stride: Int) {
    let n = 32 * blocks, stride = ctram_q8a_row_bytes(Int32(blocks))
    let random = makeActivations(count: n, seed: seed), other = makeActivations(count: n, seed: seed + 1)
    let rows: [[Float]] = [
        random,
        [Float](repeating: 1, count: n),
        (0..<n).map { $0 % 2 == 0 ? 1 : -1 },
        (0..<n).map { $0 < 32 ? 0 : other[$0] * 3 },
    ]
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4 * stride, alignment: 64)
    for (j, x) in rows.enumerated() { ctram_quantize_q8a(x, buffer + j * stride, Int32(n)) }
    return (buffer, stride)
}

private func runTile(_ kernel: ctram_tile_fn, nw: Int, na: Int, blocks: Int, weights: [UInt8], rowBytes: Int,
                     activations: UnsafeRawPointer, stride: Int) -> [Float] {
    var y = [Float](repeating: .nan, count: 4 * 6)
    weights.withUnsafeBytes { w in
        y.withUnsafeMutableBufferPointer { yp in
            kernel(Int32(nw), Int32(na), Int32(blocks), w.baseAddress!, rowBytes, activations, stride, yp.baseAddress!, 6)
        }
    }
    return y
}

/// Every SIMD tile shape equals the scalar 4 × 4 tile bit for bit (the same exact integer block
/// dot products, the same fma per block lane, the same 16-lane reduction), over block counts
/// that exercise short last steps (1, 7, 9, 17) and both lane halves (16, 40); the scalar tile is
/// itself checked against a Double reference, and nothing outside a tile is written.
@Test(arguments: BlockLaneTileCase.all, [1, 7, 8, 9, 16, 17, 40])
func blockLaneSIMDTileEqualsScalar(_ c: BlockLaneTileCase, blocks: Int) throws {
    let simd = try #require(ctram_tile_kernel(c.type.ggmlTypeID, cISA(c.isa)))
    let scalar = try #require(ctram_tile_kernel(c.type.ggmlTypeID, cISA(.scalar)))
    #expect(ctram_tile_kernel_isa(c.type.ggmlTypeID, cISA(c.isa)) == cISA(c.isa))

    let rowBytes = blocks * c.type.blockBytes
    let weights = makeBlockRows(c.type, rows: 4, blocks: blocks, seed: UInt64(17 * blocks))
    let (activations, stride) = makeQ8ARows(blocks: blocks, seed: UInt64(blocks))
    defer { activations.deallocate() }
    let expected = runTile(scalar, nw: 4, na: 4, blocks: blocks, weights: weights, rowBytes: rowBytes, activations: activations, stride: stride)

    // the scalar tile against dequantized weights times the decoded activations
    let n = 32 * blocks
    var w = [Float](repeating: 0, count: 4 * n)
    weights.withUnsafeBytes { src in w.withUnsafeMutableBufferPointer { dequantize(c.type, src.baseAddress!, $0.baseAddress!, count: 4 * n) } }
    for j in 0..<4 {
        let view = ctram_q8a_view(activations + j * stride, Int32(blocks))
        for i in 0..<4 {
            var want = 0.0, magnitude = 0.0
            for e in 0..<n {
                let p = Double(w[i * n + e]) * Double(view.d[e / 32]) * Double(view.qs[e])
                want += p
                magnitude += abs(p)
            }
            let got = Double(expected[j * 6 + i]), bound = Double(n + 8) / Double(1 << 24) * magnitude + 1e-30
            #expect(abs(got - want) <= bound, "scalar (\(i), \(j)): \(got) vs reference \(want)")
            #expect(got.isFinite && (j >= 2 || got != 0), "scalar (\(i), \(j)) = \(got)")
        }
    }

    for nw in 1...4 {
        for na in 1...4 {
            let y = runTile(simd, nw: nw, na: na, blocks: blocks, weights: weights, rowBytes: rowBytes, activations: activations, stride: stride)
            for j in 0..<4 {
                for i in 0..<6 {
                    let v = y[j * 6 + i]
                    if j < na && i < nw {
                        #expect(v.bitPattern == expected[j * 6 + i].bitPattern, "\(nw)×\(na) tile (\(i), \(j)): \(v) vs scalar \(expected[j * 6 + i])")
                    } else {
                        #expect(v.isNaN, "\(nw)×\(na) tile wrote outside itself at (\(i), \(j))")
                    }
                }
            }
        }
    }
}
