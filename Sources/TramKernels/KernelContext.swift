import CTramKernels

/// Per-engine-thread state for the kernels: the thread pool, the chosen ISA and grow-on-demand
/// scratch, so the hot path allocates nothing once the largest shapes have been seen.
///
/// Not thread-safe: one context per engine thread (its pool is not reentrant either).
public final class KernelContext: @unchecked Sendable {
    public let pool: ThreadPool
    /// The quantized-kernel variant this context runs.
    public let isa: KernelISA
    /// Quantized activations: [tokens, blocks] of ctram_block_q8a / ctram_block_q8k.
    var activationScratch = Scratch()

    /// `threads` includes the calling thread.
    public convenience init(threads: Int) {
        self.init(threads: threads, isa: .selected)
    }

    /// Forces an ISA (clamped to what the CPU supports), so tests can cover every variant.
    package init(threads: Int, isa: KernelISA) {
        pool = ThreadPool(threadCount: max(1, threads))
        self.isa = min(isa, .best)
    }

    /// The variant that actually runs for `type` (K-quants have scalar code only so far; float
    /// types run Swift SIMD, reported as the package's CPU level `.avx2`).
    package func effectiveISA(for type: DataType) -> KernelISA {
        if !type.isQuantized { return .avx2 }
        return KernelISA(cValue: ctram_tile_kernel_isa(type.ggmlTypeID, isa.cValue))
    }

    /// The variant that actually runs for `w` (its packing included).
    package func effectiveISA(for w: WeightMatrix) -> KernelISA {
        if !w.type.isQuantized { return .avx2 }
        return KernelISA(cValue: ctram_tile_kernel_isa(w.kernelTypeID, isa.cValue))
    }

    /// y = x · Wᵀ: for every token t and output row r, y[t, r] = Σ_c x[t, c] · W[r, c].
    ///
    ///     x: [tokens, w.columns]   y: [tokens, w.rows]   (row-major, f32)
    ///
    /// Float weights run f32 SIMD dot products; quantized weights quantize each activation row to
    /// int8 blocks first and run integer dot products. Output rows are split across the pool.
    /// Batch invariance: y[t, ·] is bitwise the same whatever `tokens` is and wherever row t sits
    /// in the batch (each (row, token) pair is computed by the same arithmetic in the same order).
    public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        if tokens <= 0 || w.rows == 0 { return }
        if w.type.isQuantized {
            quantizedMatmul(w, x, tokens: tokens, y)
        } else {
            floatMatmul(w, x, tokens: tokens, y)
        }
    }

    /// Splits `rows` into chunks (multiples of `align`), about `perThread` per pool thread, and
    /// runs `body(rowRange)` for each across the pool.
    @inline(__always)
    func forEachRowChunk(rows: Int, align: Int, minimumRows: Int, _ body: (Range<Int>) -> Void) {
        let threads = pool.threadCount
        var chunk = (rows + 4 * threads - 1) / (4 * threads)
        chunk = max(chunk, minimumRows)
        chunk = (chunk + align - 1) / align * align
        let chunks = (rows + chunk - 1) / chunk
        pool.parallelFor(chunks) { c in
            let start = c * chunk
            body(start..<min(rows, start + chunk))
        }
    }
}

/// A grow-only, 64-byte-aligned scratch allocation.
struct Scratch {
    private var buffer: AlignedBuffer?

    /// At least `bytes` bytes; contents are undefined. Reallocates only when it must grow.
    mutating func pointer(bytes: Int) -> UnsafeMutableRawPointer {
        if let buffer, buffer.byteCount >= bytes { return buffer.pointer }
        let grown = AlignedBuffer(byteCount: max(bytes, (buffer?.byteCount ?? 0) * 3 / 2))
        buffer = grown
        return grown.pointer
    }
}
