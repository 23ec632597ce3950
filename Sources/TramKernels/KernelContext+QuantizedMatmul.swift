import CTramKernels

extension KernelContext {
    /// Quantized y = x · Wᵀ: quantize each activation row to int8 blocks (Q8 for Q8_0/Q4_0/Q4_1,
    /// Q8_K for Q4_K/Q6_K), then run the C tile kernel of the chosen ISA over
    /// (output-row × token) tiles.
    ///
    /// Tiles: one token → 4 weight rows × 1 token (independent accumulators for ILP);
    /// several tokens → 2 weight rows × 4 tokens, so each weight block is loaded once for 4 rows
    /// of activations; remainders use smaller tiles of the same kernel, which computes each
    /// (row, token) pair identically whatever the tile shape (batch invariance).
    func quantizedMatmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        guard let kernel = ctram_tile_kernel(w.kernelTypeID, isa.cValue) else {
            preconditionFailure("no quantized kernel for \(w.type)")
        }
        let columns = w.columns, rows = w.rows
        let blocks = columns / w.type.blockElements
        let superBlocks = w.type.blockElements == 256
        let activationStride = superBlocks ? blocks * MemoryLayout<ctram_block_q8k>.stride : ctram_q8a_row_bytes(Int32(blocks))
        // [tokens, activationStride bytes]: a ctram_q8a row (64-byte aligned) or ctram_block_q8k[blocks]
        let activations = activationScratch.pointer(bytes: tokens * activationStride)

        let quantizeRow = { (t: Int) in
            let out = activations + t * activationStride
            if superBlocks {
                ctram_quantize_q8k(x + t * columns, out.assumingMemoryBound(to: ctram_block_q8k.self), Int32(columns))
            } else {
                ctram_quantize_q8a(x + t * columns, out, Int32(columns))
            }
        }
        if tokens >= 8 {
            pool.parallelFor(tokens, quantizeRow)
        } else {
            for t in 0..<tokens { quantizeRow(t) }
        }

        let weights = w.data, weightStride = w.rowBytes
        let nblocks = Int32(blocks)
        forEachRowChunk(rows: rows, align: 4, minimumRows: 16) { range in
            var r = range.lowerBound
            if tokens == 1 {
                while r < range.upperBound {
                    let nw = min(4, range.upperBound - r)
                    kernel(Int32(nw), 1, nblocks, weights + r * weightStride, weightStride,
                           activations, activationStride, y + r, rows)
                    r += nw
                }
                return
            }
            while r < range.upperBound {
                let nw = min(2, range.upperBound - r)
                var t = 0
                while t < tokens {
                    let na = min(4, tokens - t)
                    kernel(Int32(nw), Int32(na), nblocks, weights + r * weightStride, weightStride,
                           activations + t * activationStride, activationStride, y + t * rows + r, rows)
                    t += na
                }
                r += nw
            }
        }
    }
}
