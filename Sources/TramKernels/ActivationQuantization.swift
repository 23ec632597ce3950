import CTramKernels

/// What the quantized matmul actually multiplies a weight row with: `x` quantized the way the
/// kernels for `weightType` quantize activations (Q8 blocks of 32 for 32-element weight blocks, Q8_K blocks of 256 for the K-quants), then
/// decoded back to floats. Float weight types use `x` unchanged. For reference twins in tests.
package func activationRoundTrip(for weightType: DataType, _ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    switch weightType {
    case .f32, .f16, .bf16:
        out.update(from: x, count: count)
    case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl:
        let blocks = count / 32
        let row = UnsafeMutableRawPointer.allocate(byteCount: ctram_q8a_row_bytes(Int32(blocks)), alignment: 64)
        defer { row.deallocate() }
        ctram_quantize_q8a(x, row, Int32(count))
        let view = ctram_q8a_view(row, Int32(blocks))
        for k in 0..<count { out[k] = view.d[k / 32] * Float(view.qs[k]) }
    case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K:
        let blocks = UnsafeMutablePointer<ctram_block_q8k>.allocate(capacity: count / 256)
        defer { blocks.deallocate() }
        ctram_quantize_q8k(x, blocks, Int32(count))
        for b in 0..<count / 256 {
            withUnsafeBytes(of: blocks[b].qs) { qs in
                for k in 0..<256 { out[256 * b + k] = blocks[b].d * Float(qs.load(fromByteOffset: k, as: Int8.self)) }
            }
        }
    }
}
