import Foundation
import Testing
import TramKernels

/// Fixtures from gguf-py's Q8_0 quantizer (Tests/Fixtures/make_quantize_q8_0.py): float rows and
/// the exact blocks ggml's quantize_row_q8_0_ref makes of them.
struct Q8_0Fixture: Decodable, CustomTestStringConvertible {
    let name: String
    let rows: Int
    let columns: Int
    let input: String
    let bytes: String

    var testDescription: String { name }

    static let all: [Q8_0Fixture] = {
        struct File: Decodable { let cases: [Q8_0Fixture] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/quantize_q8_0.json")
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.cases
    }()

    func values() throws -> [Float] {
        let raw = try #require(Data(base64Encoded: input))
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func expected() throws -> [UInt8] { [UInt8](try #require(Data(base64Encoded: bytes))) }
}

/// The first differing byte, described by block and field, or nil when equal.
private func firstDifference(_ got: [UInt8], _ expected: [UInt8]) -> String? {
    guard got.count == expected.count else { return "\(got.count) bytes, expected \(expected.count)" }
    guard let i = got.indices.first(where: { got[$0] != expected[$0] }) else { return nil }
    let field = i % 34 < 2 ? "d" : "qs[\(i % 34 - 2)]"
    return "block \(i / 34) \(field): byte \(got[i]), gguf-py \(expected[i])"
}

@Test func q8_0FixturesArePresent() {
    // Guards the parameterised tests below against silently running no case at all.
    let names = Q8_0Fixture.all.map(\.name)
    #expect(names.count == 12)
    #expect(names.contains("ties, d = 1") && names.contains("all zeros") && names.contains("negative maximum"))
}

/// The row quantizer reproduces gguf-py's bytes exactly, ties (roundf, not round-to-even) and
/// f16 rounding of d (ties to even, subnormals, underflow to 0, overflow to inf) included.
@Test(arguments: Q8_0Fixture.all)
func quantizeRowMatchesGGUFPy(_ fixture: Q8_0Fixture) throws {
    let x = try fixture.values()
    let expected = try fixture.expected()
    var got = [UInt8](repeating: 0xAA, count: expected.count)
    let finite = x.withUnsafeBufferPointer { src in
        got.withUnsafeMutableBytes { quantizeRowQ8_0(src.baseAddress!, $0.baseAddress!, count: x.count) }
    }
    #expect(finite)
    #expect(firstDifference(got, expected) == nil, "\(firstDifference(got, expected) ?? "")")
}

/// The matrix quantizer gives the same bytes whatever the number of threads splitting its rows.
@Test(arguments: Q8_0Fixture.all.filter { $0.rows > 1 }, [1, 2, 3])
func quantizeMatrixMatchesGGUFPy(_ fixture: Q8_0Fixture, threads: Int) throws {
    let x = try fixture.values()
    let expected = try fixture.expected()
    let matrix = x.withUnsafeBytes { WeightMatrix(type: .f32, rows: fixture.rows, columns: fixture.columns, copying: $0) }
    let q = try #require(matrix.quantizedToQ8_0(pool: ThreadPool(threadCount: threads)))
    #expect(q.type == .q8_0 && q.rows == fixture.rows && q.columns == fixture.columns)
    let got = [UInt8](UnsafeRawBufferPointer(start: q.data, count: q.rows * q.rowBytes))
    #expect(firstDifference(got, expected) == nil, "\(firstDifference(got, expected) ?? "")")
}

/// f16 and bf16 matrices quantize as their exact f32 widening does.
@Test(arguments: [DataType.f16, .bf16])
func halfPrecisionSourcesQuantizeLikeTheirFloat32Values(_ type: DataType) throws {
    let pool = ThreadPool(threadCount: 2)
    let half = makeWeights(type, rows: 37, columns: 160, seed: 7)
    let q = try #require(half.quantizedToQ8_0(pool: pool))
    let reference = try #require(half.dequantizedToFloat32().quantizedToQ8_0(pool: pool))
    let count = q.rows * q.rowBytes
    #expect(memcmp(q.data, reference.data, count) == 0)
    // And the blocks decode to within half a step (d/2) of the values, plus f16 rounding of d.
    let f32 = half.dequantizedToFloat32()
    let values = f32.data.assumingMemoryBound(to: Float.self)
    var decoded = [Float](repeating: 0, count: 160)
    for r in 0..<q.rows {
        decoded.withUnsafeMutableBufferPointer { q.row(r, into: $0.baseAddress!) }
        for c in 0..<160 {
            let block = values + r * 160 + c / 32 * 32
            let amax = (0..<32).map { abs(block[$0]) }.max()!
            #expect(abs(decoded[c] - values[r * 160 + c]) <= amax / 127 * 0.5 + amax * 1e-3)
        }
    }
}

/// NaN or infinity anywhere makes the matrix unquantizable (nil), never a trap or garbage.
@Test(arguments: [Float.nan, .infinity, -.infinity])
func nonFiniteValuesAreReported(_ bad: Float) {
    var x = makeActivations(count: 8 * 64, seed: 3)
    x[5 * 64 + 17] = bad
    let matrix = x.withUnsafeBytes { WeightMatrix(type: .f32, rows: 8, columns: 64, copying: $0) }
    #expect(matrix.quantizedToQ8_0(pool: ThreadPool(threadCount: 2)) == nil)
    x[5 * 64 + 17] = 0
    let fine = x.withUnsafeBytes { WeightMatrix(type: .f32, rows: 8, columns: 64, copying: $0) }
    #expect(fine.quantizedToQ8_0(pool: ThreadPool(threadCount: 2)) != nil)
}

/// The quantized matrix runs on the Q8_0 matmul kernels like a Q8_0 matrix from a GGUF file
/// (tolerance as in `matmulMatchesReference`: float rounding of the running sums only).
@Test func quantizedMatrixMultipliesLikeItsReference() throws {
    let w = makeWeights(.f32, rows: 19, columns: 96, seed: 11)
    let q = try #require(w.quantizedToQ8_0(pool: ThreadPool(threadCount: 2)))
    let x = makeActivations(count: 3 * 96, seed: 12)
    let y = KernelContext(threads: 2).matmul(q, x, tokens: 3)
    let (expected, magnitude) = referenceMatmul(q, x, tokens: 3)
    for i in y.indices {
        #expect(abs(Double(y[i]) - expected[i]) <= Double(96 + 8) / Double(1 << 24) * magnitude[i] + 1e-30, "y[\(i)]")
    }
}
