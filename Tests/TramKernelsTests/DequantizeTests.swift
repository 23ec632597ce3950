import Foundation
import Testing
import TramKernels

/// Fixtures from gguf-py (Tests/Fixtures/make_kernels_quant.py): raw GGUF blocks and the floats
/// gguf-py decodes them to.
struct QuantFixture: Decodable, CustomTestStringConvertible {
    let type: String
    let count: Int
    let bytes: String
    let values: String

    var testDescription: String { "\(type)×\(count)" }

    static let all: [QuantFixture] = {
        struct File: Decodable { let cases: [QuantFixture] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/kernels_quant.json")
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.cases
    }()

    var dataType: DataType { DataType.allCases.first { "\($0)" == type } ?? .f32 }
}

@Test func fixturesCoverEveryStoredType() {
    let types = Set(QuantFixture.all.map(\.dataType))
    #expect(types == Set(DataType.allCases).subtracting([.f32]))
}

@Test(arguments: QuantFixture.all)
func dequantizeMatchesGGUFPy(_ fixture: QuantFixture) throws {
    let raw = try #require(Data(base64Encoded: fixture.bytes))
    let expectedBytes = try #require(Data(base64Encoded: fixture.values))
    let type = fixture.dataType
    #expect(raw.count == type.rowBytes(columns: fixture.count))
    let expected = expectedBytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    var got = [Float](repeating: .nan, count: fixture.count)
    raw.withUnsafeBytes { src in
        got.withUnsafeMutableBufferPointer { dequantize(type, src.baseAddress!, $0.baseAddress!, count: fixture.count) }
    }
    // gguf-py computes in float32 too; allow one rounding of difference in the last step.
    for i in 0..<fixture.count {
        let tolerance = Swift.max(1e-7, 2 * abs(expected[i]).ulp)
        if abs(got[i] - expected[i]) > tolerance {
            Issue.record("\(fixture.type)[\(i)]: got \(got[i]), gguf-py \(expected[i])")
            return
        }
    }
}

@Test func weightMatrixRowAndFloat32Copy() throws {
    let fixture = try #require(QuantFixture.all.first { $0.type == "q8_0" && $0.count == 256 })
    let raw = try #require(Data(base64Encoded: fixture.bytes))
    let matrix = raw.withUnsafeBytes { WeightMatrix(type: .q8_0, rows: 4, columns: 64, copying: $0) }
    let f32 = matrix.dequantizedToFloat32()
    #expect(f32.type == .f32 && f32.rows == 4 && f32.columns == 64)
    var row = [Float](repeating: 0, count: 64)
    for r in 0..<4 {
        row.withUnsafeMutableBufferPointer { matrix.row(r, into: $0.baseAddress!) }
        let copied = Array(UnsafeBufferPointer(start: f32.data.assumingMemoryBound(to: Float.self) + r * 64, count: 64))
        #expect(row == copied)
    }
}

@Test func dataTypeTable() {
    let ids: [UInt32: DataType] = [0: .f32, 1: .f16, 2: .q4_0, 3: .q4_1, 6: .q5_0, 7: .q5_1, 8: .q8_0, 10: .q2_K, 11: .q3_K,
                                   12: .q4_K, 13: .q5_K, 14: .q6_K, 20: .iq4_nl, 30: .bf16]
    for (id, type) in ids {
        #expect(DataType(ggmlTypeID: id) == type)
        #expect(type.ggmlTypeID == id)
    }
    #expect(DataType(ggmlTypeID: 9) == nil)  // Q8_1: an activation format, never a weight
    #expect(DataType(ggmlTypeID: 16) == nil)  // IQ2_XXS: not run yet
    for (type, bytes) in [(DataType.q5_0, 22), (.q5_1, 24), (.iq4_nl, 18)] { #expect(type.rowBytes(columns: 64) == 2 * bytes) }
    for (type, bytes) in [(DataType.q2_K, 84), (.q3_K, 110), (.q5_K, 176)] { #expect(type.rowBytes(columns: 512) == 2 * bytes) }
    #expect(DataType.q4_K.rowBytes(columns: 512) == 288)
    #expect(DataType.q6_K.rowBytes(columns: 256) == 210)
    #expect(DataType.q4_1.rowBytes(columns: 64) == 40)
    #expect(DataType.bf16.rowBytes(columns: 3) == 6)
    #expect(DataType.q8_0.isQuantized && !DataType.bf16.isQuantized)
}
