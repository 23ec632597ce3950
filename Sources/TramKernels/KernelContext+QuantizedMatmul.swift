import CTramKernels

/// One matrix of a group that multiplies the same activations (q/k/v, gate/up).
typealias MatmulJob = (w: WeightMatrix, y: UnsafeMutablePointer<Float>)

extension KernelContext {
    /// Quantized y = x · Wᵀ: quantize each activation row to int8 blocks (Q8 for Q8_0/Q4_0/Q4_1,
    /// Q8_K for Q4_K/Q6_K), then run the C tile kernel of the chosen ISA over
    /// (output-row × token) tiles.
    ///
    /// Tiles: one token → 4 weight rows × 1 token (independent accumulators for ILP);
    /// several tokens → 2 weight rows × 4 tokens (3 × 4 for x16-packed weights), so each weight
    /// block is loaded once for 4 rows of activations; remainders use smaller tiles of the same
    /// kernel, which computes each (row, token) pair identically whatever the tile shape (batch
    /// invariance).
    func quantizedMatmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: MatmulJob.self, capacity: 1) { jobs in
            jobs.initializeElement(at: 0, to: (w, y))
            quantizedMatmul(UnsafeBufferPointer(jobs), x, tokens: tokens)
            _ = jobs.deinitialize()
        }
    }

    /// Whether `a` and `b` can share one quantization of their input (same width, same kind of
    /// activation blocks).
    static func shareActivations(_ a: WeightMatrix, _ b: WeightMatrix) -> Bool {
        a.type.isQuantized && b.type.isQuantized && a.columns == b.columns && a.type.blockElements == b.type.blockElements
    }

    /// Several matrices over the same x (all quantized, same columns and activation format):
    /// x is quantized once, and every matrix's row chunks run in one parallel region, so the
    /// pool synchronises once instead of once per matrix.
    func quantizedMatmul(_ jobs: UnsafeBufferPointer<MatmulJob>, _ x: UnsafePointer<Float>, tokens: Int) {
        let first = jobs[0].w
        let columns = first.columns
        let blocks = columns / first.type.blockElements
        let superBlocks = first.type.blockElements == 256
        let activationStride = superBlocks ? blocks * MemoryLayout<ctram_block_q8k>.stride : ctram_q8a_row_bytes(Int32(blocks))
        // [tokens, activationStride bytes]: a ctram_q8a row (64-byte aligned) or ctram_block_q8k[blocks]
        let activations = activationScratch.pointer(bytes: tokens * activationStride)

        let quantize = ActivationRows(x: x, columns: columns, activations: activations, stride: activationStride, superBlocks: superBlocks)
        if tokens >= 8 {
            pool.parallelFor(tokens, quantize)
        } else {
            for t in 0..<tokens { quantize.run(t, thread: 0) }
        }

        // Row chunks of every matrix, numbered consecutively: matrix 0's first, then matrix 1's...
        var total = 0
        for job in jobs {
            precondition(Self.shareActivations(job.w, first), "matrices of a group must share their activation format")
            total += (job.w.rows + rowChunk(rows: job.w.rows) - 1) / rowChunk(rows: job.w.rows)
        }
        pool.parallelFor(total, RowChunks(context: self, jobs: jobs, nblocks: Int32(blocks), activations: activations,
                                          activationStride: activationStride, tokens: tokens))
    }

    /// Quantizes activation row t of x into its int8 blocks (one item per token).
    private struct ActivationRows: ParallelWork {
        let x: UnsafePointer<Float>
        let columns: Int
        let activations: UnsafeMutableRawPointer
        let stride: Int
        let superBlocks: Bool

        func run(_ t: Int, thread _: Int) {
            let out = activations + t * stride
            if superBlocks {
                ctram_quantize_q8k(x + t * columns, out.assumingMemoryBound(to: ctram_block_q8k.self), Int32(columns))
            } else {
                ctram_quantize_q8a(x + t * columns, out, Int32(columns))
            }
        }
    }

    /// The tiles of one row chunk of one matrix of the group (chunks numbered across matrices).
    private struct RowChunks: ParallelWork {
        let context: KernelContext
        let jobs: UnsafeBufferPointer<MatmulJob>
        let nblocks: Int32
        let activations: UnsafeMutableRawPointer
        let activationStride: Int
        let tokens: Int

        func run(_ chunk: Int, thread _: Int) {
            var c = chunk
            for job in jobs {
                let size = context.rowChunk(rows: job.w.rows)
                let count = (job.w.rows + size - 1) / size
                if c < count {
                    context.runTiles(job.w, rows: c * size..<min(job.w.rows, (c + 1) * size), nblocks: nblocks,
                                     activations: activations, activationStride: activationStride, tokens: tokens, job.y)
                    return
                }
                c -= count
            }
        }
    }

    /// Rows per parallel chunk of a quantized matrix (see `rowChunk(rows:align:minimumRows:)`):
    /// a multiple of 12, so 4-row (one token) and 3-row (x16 batch) tiles both fill it.
    @inline(__always)
    fileprivate func rowChunk(rows: Int) -> Int { rowChunk(rows: rows, align: 12, minimumRows: 24) }

    /// The tiles of output rows `range` of `w` for every token.
    @inline(__always)
    fileprivate func runTiles(_ w: WeightMatrix, rows range: Range<Int>, nblocks: Int32, activations: UnsafeMutableRawPointer,
                          activationStride: Int, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        guard let kernel = ctram_tile_kernel(w.kernelTypeID, isa.cValue) else {
            preconditionFailure("no quantized kernel for \(w.type)")
        }
        let weights = w.data, weightStride = w.rowBytes, rows = w.rows
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
        // x16 tiles hold 3 rows × 4 tokens of int32 and float accumulators in 24 of the 32 zmm
        // registers (tram bench kernels, T=32: ffn_gate 53–69 → 107 GF/s over 2 × 4).
        // The VNNI K-quant tiles keep one int32 zmm per pair: 4 × 4 of them fit beside the
        // unpacked rows (ffn_gate q4_K 379 → 439, ffn_down q6_K 397 → 470 GF/s at T=32 over 2 × 4,
        // 1.5B Q4_K_M, Zen 5). AVX2 has 16 ymm registers: its tiles keep 2 × 4.
        let tileRows = isa == .avx512vnni && w.packing == .x16 ? 3 : isa == .avx512vnni && w.type.blockElements == 256 ? 4 : 2
        while r < range.upperBound {
            let nw = min(tileRows, range.upperBound - r)
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
