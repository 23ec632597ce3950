import CTramKernels

/// Quantizes `count` floats (a multiple of 32) into `count / 32` GGUF Q8_0 blocks at `out`
/// (34 bytes each), byte for byte as ggml's `quantize_row_q8_0_ref`: d = max|x|/127 stored as
/// f16, q = roundf(x/d) with halves away from zero. Returns false, leaving the blocks meaningless,
/// when `x` holds a NaN or an infinity.
package func quantizeRowQ8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, count: Int) -> Bool {
    precondition(count % 32 == 0, "\(count) values is not a whole number of q8_0 blocks")
    return ctram_quantize_row_q8_0(x, out, Int64(count)) != 0
}

extension WeightMatrix {
    /// This float matrix (f32, f16 or bf16) quantized to Q8_0, in a buffer the new matrix owns;
    /// nil when a value is NaN or infinite. Rows are split across `pool`.
    ///
    /// Each row is widened to f32 first (exactly: f16 and bf16 are subsets of f32), so an f16 or
    /// bf16 matrix gives the blocks its f32 twin gives. `self` is only read: when it lives in a
    /// memory map, the map is left as it was.
    package func quantizedToQ8_0(pool: ThreadPool) -> WeightMatrix? {
        precondition(!type.isQuantized, "\(type) weights are already quantized")
        precondition(columns % 32 == 0, "\(columns) columns is not a whole number of q8_0 blocks")
        let outRowBytes = DataType.q8_0.rowBytes(columns: columns)
        let buffer = AlignedBuffer(byteCount: rows * outRowBytes)
        // A few chunks per thread balance uneven progress; a chunk shares one f32 row of scratch.
        let chunkRows = max(1, (rows + 4 * pool.threadCount - 1) / (4 * pool.threadCount))
        let chunks = (rows + chunkRows - 1) / chunkRows
        let finite = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(chunks, 1))
        defer { finite.deallocate() }
        finite.initialize(repeating: true)
        let (source, inRowBytes, type, columns, rows) = (data, rowBytes, type, columns, rows)
        pool.parallelFor(chunks) { chunk in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: columns) { scratch in
                let row = scratch.baseAddress!
                for r in chunk * chunkRows..<min(rows, (chunk + 1) * chunkRows) {
                    dequantize(type, source + r * inRowBytes, row, count: columns)
                    if !quantizeRowQ8_0(row, buffer.pointer + r * outRowBytes, count: columns) { finite[chunk] = false }
                }
            }
        }
        guard finite.allSatisfy({ $0 }) else { return nil }
        return WeightMatrix(type: .q8_0, rows: rows, columns: columns, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }
}
