import Testing
import TramKernels

/// Row widths in blocks that cover every path of the x16 layout: a lone short tail (1–4 blocks),
/// a masked 16-lane tail (5–15), whole groups, and whole groups followed by either kind of tail
/// (SmolLM2's 576 columns are 18 blocks; its 1536 are 48).
private let blockCounts = [1, 2, 3, 4, 5, 9, 15, 16, 17, 18, 20, 21, 31, 33, 48]

/// The weight types with an x16 layout.
private let packedTypes: [DataType] = [.q4_1, .q5_0, .q8_0]

/// `w` repacked x16 regardless of the CPU (the layout does not depend on the ISA).
private func packed(_ w: WeightMatrix) -> WeightMatrix {
    let p = w.packedForKernels(isa: .avx512vnni)
    #expect(p.packing == .x16)
    return p
}

@Test(arguments: packedTypes, blockCounts)
func x16PackingRoundTrips(type: DataType, blocks: Int) {
    let rows = 5, columns = 32 * blocks
    let w = makeWeights(type, rows: rows, columns: columns, seed: UInt64(blocks))
    let p = packed(w)
    #expect(p.rowBytes == w.rowBytes)
    var a = [Float](repeating: 0, count: columns), b = a
    for r in 0..<rows {
        a.withUnsafeMutableBufferPointer { w.row(r, into: $0.baseAddress!) }
        b.withUnsafeMutableBufferPointer { p.row(r, into: $0.baseAddress!) }
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "row \(r) of \(blocks) blocks")
    }
}

@Test func onlyQ4_1Q5_0AndQ8_0ArePackedAndOnlyForSIMD() {
    let q41 = makeWeights(.q4_1, rows: 4, columns: 64, seed: 1)
    #expect(q41.packedForKernels(isa: .avx2).packing == .x16)
    #expect(q41.packedForKernels(isa: .scalar).packing == .ggml)
    for type in [DataType.q4_0, .q5_1, .iq4_nl, .q4_K, .q5_K, .q6_K, .f32] {
        let w = makeWeights(type, rows: 4, columns: type.blockElements == 256 ? 256 : 64, seed: 2)
        #expect(w.packedForKernels(isa: .avx512vnni).packing == .ggml, "\(type)")
    }
    // Every ISA has x16 code, run only where the CPU has it (a request above the CPU's best
    // falls to its best): never a silent fallback to scalar.
    let p = packed(q41)
    #expect(KernelContext(threads: 1, isa: .scalar).effectiveISA(for: p) == .scalar)
    for isa in [KernelISA.avx2, .avx512vnni] {
        #expect(KernelContext(threads: 1, isa: isa).effectiveISA(for: p) == min(isa, KernelISA.best))
    }
}

/// Every variant on the packed layout equals the scalar twin bitwise (the scalar code performs
/// the VNNI tile's exact roundings: same lane sums, explicit FMAs, the same reduction tree), and
/// both match the Double reference within MatmulTests' bound.
@Test(arguments: packedTypes, blockCounts)
func x16MatmulMatchesScalarTwinAndReference(type: DataType, blocks: Int) {
    let rows = 11, columns = 32 * blocks
    let stored = makeWeights(type, rows: rows, columns: columns, seed: 40 + UInt64(blocks))
    let w = packed(stored)
    for isa in KernelISA.supported {
        for tokens in [1, 3, 9] {
            let x = makeActivations(count: tokens * columns, seed: UInt64(tokens * 100 + blocks))
            let y = KernelContext(threads: 2, isa: isa).matmul(w, x, tokens: tokens)
            let twin = KernelContext(threads: 1, isa: .scalar).matmul(w, x, tokens: tokens)
            #expect(y.map(\.bitPattern) == twin.map(\.bitPattern), "\(isa), \(blocks) blocks, \(tokens) tokens")

            let (reference, magnitude) = referenceMatmul(stored, x, tokens: tokens)
            expectWithinRoundingOfReference(y, reference, magnitude: magnitude, columns: columns)
        }
    }
}

/// Batch invariance holds on the packed layout too: a token's outputs are bitwise the same alone,
/// at any position in a batch, with any thread count.
@Test(arguments: packedTypes, KernelISA.supported)
func x16MatmulIsBatchInvariant(type: DataType, isa: KernelISA) {
    let rows = 45, columns = 32 * 18
    let w = packed(makeWeights(type, rows: rows, columns: columns, seed: 9))
    let all = makeActivations(count: 32 * columns, seed: 71)
    let full = KernelContext(threads: 2, isa: isa).matmul(w, all, tokens: 32)
    let one = KernelContext(threads: 1, isa: isa)
    for token in [0, 5, 13, 31] {
        let alone = one.matmul(w, Array(all[token * columns..<(token + 1) * columns]), tokens: 1)
        #expect(alone[...] == full[token * rows..<(token + 1) * rows], "token \(token)")
        let start = max(0, token - 3), end = min(32, start + 7)
        let batch = one.matmul(w, Array(all[start * columns..<end * columns]), tokens: end - start)
        let at = token - start
        #expect(batch[at * rows..<(at + 1) * rows] == full[token * rows..<(token + 1) * rows], "token \(token) in a batch of 7")
    }
}

/// Q5_0's packed tile does the GGUF-layout tiles' arithmetic (lanes32.h: block b in lane b mod 16),
/// so packing changes no result: packed and unpacked matrices agree bitwise on every ISA.
@Test(arguments: blockCounts)
func q5_0PackedEqualsGGUFLayout(blocks: Int) {
    let rows = 13, columns = 32 * blocks
    let stored = makeWeights(.q5_0, rows: rows, columns: columns, seed: 90 + UInt64(blocks))
    let w = packed(stored)
    for isa in KernelISA.supported {
        for tokens in [1, 5] {
            let x = makeActivations(count: tokens * columns, seed: UInt64(tokens + blocks))
            let context = KernelContext(threads: 2, isa: isa)
            #expect(context.matmul(w, x, tokens: tokens).map(\.bitPattern) == context.matmul(stored, x, tokens: tokens).map(\.bitPattern),
                    "\(isa), \(blocks) blocks, \(tokens) tokens")
        }
    }
}
