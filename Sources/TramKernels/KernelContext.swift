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

    /// The variant that actually runs for `type` in the file's layout (float types run Swift
    /// SIMD, reported as the package's CPU level `.avx2`).
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

    /// `matmul` of several matrices with the same input (q, k, v; gate, up): y0 = x·W0ᵀ, y1 = x·W1ᵀ
    /// and, if given, y2 = x·W2ᵀ. Quantized matrices of one activation format quantize x once and
    /// share one parallel region; the results are bitwise those of separate `matmul` calls.
    public func matmul(_ x: UnsafePointer<Float>, tokens: Int,
                       _ w0: WeightMatrix, _ y0: UnsafeMutablePointer<Float>,
                       _ w1: WeightMatrix, _ y1: UnsafeMutablePointer<Float>,
                       _ w2: WeightMatrix? = nil, _ y2: UnsafeMutablePointer<Float>? = nil) {
        if tokens <= 0 { return }
        let third = w2.flatMap { w in y2.map { (w, $0) } }
        let shared = Self.shareActivations(w0, w1) && third.map { Self.shareActivations(w0, $0.0) } ?? true
        guard shared, w0.rows > 0, w1.rows > 0, third.map({ $0.0.rows > 0 }) ?? true else {
            matmul(w0, x, tokens: tokens, y0)
            matmul(w1, x, tokens: tokens, y1)
            if let (w, y) = third { matmul(w, x, tokens: tokens, y) }
            return
        }
        withUnsafeTemporaryAllocation(of: MatmulJob.self, capacity: 3) { jobs in
            jobs.initializeElement(at: 0, to: (w0, y0))
            jobs.initializeElement(at: 1, to: (w1, y1))
            if let third { jobs.initializeElement(at: 2, to: third) }
            let count = third == nil ? 2 : 3
            quantizedMatmul(UnsafeBufferPointer(rebasing: jobs[..<count]), x, tokens: tokens)
            _ = UnsafeMutableBufferPointer(rebasing: jobs[..<count]).deinitialize()
        }
    }

    /// Rows per chunk when `rows` are split across the pool: about a quarter of a thread's share
    /// (so uneven progress evens out), at least `minimumRows`, a multiple of `align`.
    @inline(__always)
    func rowChunk(rows: Int, align: Int, minimumRows: Int) -> Int {
        let threads = pool.threadCount
        var chunk = (rows + 4 * threads - 1) / (4 * threads)
        chunk = max(chunk, minimumRows)
        return (chunk + align - 1) / align * align
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
