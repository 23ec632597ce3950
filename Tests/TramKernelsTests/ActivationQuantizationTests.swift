import CTramKernels
import Testing
import TramKernels

/// `ctram_quantize_q8a` against a plain Swift twin of its definition (CTramKernels.h): per block
/// of 32, d = max|x| / 127, q = round-half-to-even(x · (1/d)), and every derived array — sums,
/// per-lane copies, the offset corrections and the interleaved `qx` copy with zeroed padding.
@Test(arguments: [1, 2, 15, 16, 17, 18, 48])
func q8aRowMatchesItsDefinition(blocks: Int) {
    let n = 32 * blocks
    var x = makeActivations(count: n, seed: UInt64(blocks))
    for k in 0..<32 { x[k] = 0 }  // an all-zero block: d = 0, every q = 0
    if blocks > 1 {
        // Ties: with max |x| = 127 the scale is exactly 1, so x.5 rounds to even both ways.
        for k in 0..<32 { x[32 + k] = Float(k) - 15.5 }
        x[32 + 31] = -127
    }
    let bytes = ctram_q8a_row_bytes(Int32(blocks))
    let row = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { row.deallocate() }
    row.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)  // garbage the quantizer must overwrite
    x.withUnsafeBufferPointer { ctram_quantize_q8a($0.baseAddress!, row, Int32(n)) }
    let v = ctram_q8a_view(row, Int32(blocks))

    for b in 0..<blocks {
        let block = x[32 * b..<32 * b + 32]
        let amax = block.map(abs).max()!
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        let q = block.map { Int32(($0 * id).rounded(.toNearestOrEven)) }
        #expect(v.d[b].bitPattern == d.bitPattern, "block \(b) scale")
        for k in 0..<32 where Int32(v.qs[32 * b + k]) != q[k] {
            Issue.record("block \(b) value \(k): \(v.qs[32 * b + k]) vs \(q[k])")
        }
        let total = q.reduce(0, +)
        #expect(v.sum[b] == total)
        #expect(v.s[b].bitPattern == (d * Float(total)).bitPattern)
        for l in 0..<8 {
            let group = q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]
            #expect(v.dv[8 * b + l].bitPattern == d.bitPattern)
            #expect(v.sv[8 * b + l].bitPattern == (d * Float(total) * 0.125).bitPattern)
            #expect(v.c8[8 * b + l] == -8 * group && v.c128[8 * b + l] == -128 * group, "block \(b) lane \(l)")
        }
    }
    // qx: group g, vector k, lane l = elements 4k…4k+3 of block 16g + l; zero past the last block.
    for g in 0..<(blocks + 15) / 16 {
        for k in 0..<8 {
            for l in 0..<16 {
                for r in 0..<4 {
                    let b = 16 * g + l
                    let expected: Int8 = b < blocks ? v.qs[32 * b + 4 * k + r] : 0
                    if v.qx[512 * g + 64 * k + 4 * l + r] != expected {
                        Issue.record("qx group \(g) vector \(k) lane \(l) byte \(r)")
                    }
                }
            }
        }
    }
}
