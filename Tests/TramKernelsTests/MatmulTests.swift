import Testing
import TramKernels

/// One matmul configuration: weight type × forced ISA.
struct MatmulCase: CustomTestStringConvertible, Sendable {
    let type: DataType
    let isa: KernelISA
    var testDescription: String { "\(type)/\(isa)" }

    static let all: [MatmulCase] = DataType.allCases.flatMap { type in
        type.isQuantized ? KernelISA.supported.map { MatmulCase(type: type, isa: $0) } : [MatmulCase(type: type, isa: .best)]
    }
}

/// Columns for a type: several blocks, and a ragged (non-multiple-of-16) width for float types.
private func testColumns(_ type: DataType) -> Int {
    switch type.blockElements {
    case 256: 768
    case 32: 288 // 9 blocks: the AVX-512 kernels' odd-block tail too
    default: 200
    }
}

/// Checks the kernel against the naive Double reference.
///
/// Tolerance: the kernel performs exactly the reference's products (integer-exact within a block
/// for quantized types; exact FMA products for float types) and differs only by float32 rounding
/// of block scales and of the running sums. Each of the ≤ n + 8 roundings (n = accumulation steps
/// per lane chain plus the reduction tree) is at most 2⁻²⁴ relative to a partial sum bounded by
/// Σ|w·x|, so |y − ref| ≤ (n + 8)·2⁻²⁴·Σ|w·x|, with n = columns as a generous upper bound.
@Test(arguments: MatmulCase.all, [1, 3, 9])
func matmulMatchesReference(_ c: MatmulCase, tokens: Int) {
    let rows = 37, columns = testColumns(c.type)
    let w = makeWeights(c.type, rows: rows, columns: columns, seed: 11)
    let x = makeActivations(count: tokens * columns, seed: UInt64(tokens))
    let context = KernelContext(threads: 2, isa: c.isa)
    #expect(context.effectiveISA(for: c.type) <= c.isa)
    let y = context.matmul(w, x, tokens: tokens)
    let (reference, magnitude) = referenceMatmul(w, x, tokens: tokens)
    expectWithinRoundingOfReference(y, reference, magnitude: magnitude, columns: columns)
}

/// Quantizing activations is lossy on purpose; check it stays within int8 resolution of the
/// float product, so a broken quantizer can't hide behind the round-trip reference.
@Test(arguments: [DataType.q8_0, .q4_1, .q6_K])
func quantizedMatmulIsCloseToFloatActivations(_ type: DataType) {
    let rows = 8, columns = 512
    let w = makeWeights(type, rows: rows, columns: columns, seed: 5)
    let x = makeActivations(count: columns, seed: 9)
    let y = KernelContext(threads: 1).matmul(w, x, tokens: 1)
    let f32 = w.dequantizedToFloat32()  // keep it alive while reading its buffer
    let wf = f32.data.assumingMemoryBound(to: Float.self)
    for r in 0..<rows {
        var exact = 0.0, wAbs = 0.0
        for c in 0..<columns {
            exact += Double(wf[r * columns + c]) * Double(x[c])
            wAbs += abs(Double(wf[r * columns + c]))
        }
        // each activation is off by at most half a step, step = 8 (max |x|) / 127
        #expect(abs(Double(y[r]) - exact) <= wAbs * 8 / 127 / 2 * 1.01)
    }
    withExtendedLifetime(f32) {}
}

/// Batch invariance: a token's outputs are bitwise identical alone, inside batches of 7 and 32 at
/// any position, and with any number of threads.
@Test(arguments: MatmulCase.all)
func matmulIsBatchInvariant(_ c: MatmulCase) {
    let rows = 45, columns = testColumns(c.type)
    let w = makeWeights(c.type, rows: rows, columns: columns, seed: 3)
    let all = makeActivations(count: 32 * columns, seed: 77)
    let two = KernelContext(threads: 2, isa: c.isa), one = KernelContext(threads: 1, isa: c.isa)
    let full = two.matmul(w, all, tokens: 32)
    func outputs(_ y: [Float], token: Int) -> ArraySlice<Float> { y[token * rows..<(token + 1) * rows] }
    for token in [0, 5, 6, 13, 30, 31] {
        let alone = one.matmul(w, Array(all[token * columns..<(token + 1) * columns]), tokens: 1)
        #expect(alone[...] == outputs(full, token: token), "token \(token) alone vs in 32")
        for start in [max(0, token - 6), max(0, token - 3)] where start + 7 <= 32 {
            let batch = two.matmul(w, Array(all[start * columns..<(start + 7) * columns]), tokens: 7)
            #expect(outputs(batch, token: token - start) == outputs(full, token: token), "token \(token) in 7 from \(start)")
        }
    }
}

@Test func isaSelectionIsConsistent() {
    #expect(KernelISA.selected <= KernelISA.best)
    #expect(KernelContext(threads: 1).isa == KernelISA.selected)
    #expect(KernelContext(threads: 1, isa: .avx512vnni).isa == KernelISA.best)
    // what start-up logs say: the variant in use first, then why (CI runs this with and without TRAM_KERNEL_ISA)
    #expect(KernelISA.selectionDescription.hasPrefix(KernelISA.selected.rawValue + " ("))
    #expect(KernelISA.selectionDescription.contains(KernelISA.selected == KernelISA.best ? "best" : "TRAM_KERNEL_ISA"))
    let scalar = KernelContext(threads: 1, isa: .scalar)
    for type in DataType.allCases where type.isQuantized { #expect(scalar.effectiveISA(for: type) == .scalar) }
}
