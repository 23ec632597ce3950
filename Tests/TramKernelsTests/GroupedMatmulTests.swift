import Testing
import TramKernels

/// Matrices multiplying the same input (q/k/v, gate/up) may be run as one group: x quantized once,
/// one parallel region. The outputs must be bitwise those of separate calls, for every ISA,
/// for groups of 2 and 3, same or mixed weight types (mixed activation formats and float weights
/// fall back to separate calls).
@Test(arguments: KernelISA.supported)
func groupedMatmulEqualsSeparateCalls(isa: KernelISA) {
    let groups: [[DataType]] = [[.q4_1, .q4_1, .q4_1], [.q4_1, .q8_0], [.q8_0, .q4_0, .q4_1], [.q4_K, .q6_K],
                                [.q4_1, .f32], [.q4_K, .q8_0, .q4_1], [.f16, .f32, .bf16]]
    let columns = 768  // 24 blocks of 32, 3 super-blocks of 256
    let rows = [37, 12, 64]
    for (g, types) in groups.enumerated() {
        for packed in [false, true] {
            let ws = types.enumerated().map { i, type in
                let w = makeWeights(type, rows: rows[i], columns: columns, seed: UInt64(10 * g + i))
                return packed ? w.packedForKernels(isa: isa) : w
            }
            for tokens in [1, 5, 32] {
                let x = makeActivations(count: tokens * columns, seed: UInt64(g + tokens))
                let context = KernelContext(threads: 2, isa: isa)
                let separate = ws.map { context.matmul($0, x, tokens: tokens) }
                var y0 = [Float](repeating: .nan, count: tokens * ws[0].rows)
                var y1 = [Float](repeating: .nan, count: tokens * ws[1].rows)
                var y2 = [Float](repeating: .nan, count: tokens * (ws.count == 3 ? ws[2].rows : 0))
                x.withUnsafeBufferPointer { xp in
                    y0.withUnsafeMutableBufferPointer { p0 in
                        y1.withUnsafeMutableBufferPointer { p1 in
                            y2.withUnsafeMutableBufferPointer { p2 in
                                if ws.count == 3 {
                                    context.matmul(xp.baseAddress!, tokens: tokens, ws[0], p0.baseAddress!, ws[1], p1.baseAddress!, ws[2], p2.baseAddress!)
                                } else {
                                    context.matmul(xp.baseAddress!, tokens: tokens, ws[0], p0.baseAddress!, ws[1], p1.baseAddress!)
                                }
                            }
                        }
                    }
                }
                let ys = [y0, y1, y2]
                for i in ws.indices {
                    #expect(ys[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(types) packed \(packed) tokens \(tokens) matrix \(i)")
                }
            }
        }
    }
}
