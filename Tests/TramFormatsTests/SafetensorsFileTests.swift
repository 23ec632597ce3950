import Foundation
import Testing
import TramFormats
import TramTestSupport

/// Encodes a safetensors file: `[u64 header length][JSON header][data]`.
func makeSafetensors(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: Data)], headerOverride: String? = nil) -> Data {
    var entries: [String] = []
    var offset = 0
    for t in tensors {
        entries.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
        offset += t.bytes.count
    }
    entries.append("\"__metadata__\":{\"format\":\"pt\"}")
    var header = headerOverride ?? "{" + entries.joined(separator: ",") + "}"
    while header.utf8.count % 8 != 0 { header += " " }
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(Data(header.utf8))
    for t in tensors { out.append(t.bytes) }
    return out
}

func floatBytes(_ values: [Float]) -> Data {
    var d = Data()
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
    return d
}

@Suite struct SafetensorsFileTests {
    @Test func readsTensorsAndMetadata() throws {
        let data = makeSafetensors([
            ("a", "F32", [2, 2], floatBytes([1, 2, 3, 4])),
            ("b", "BF16", [3], Data([0x80, 0x3F, 0x00, 0x40, 0x40, 0x40])),
        ])
        let file = try SafetensorsFile(path: write(data, name: "m.safetensors"))
        #expect(file.metadata["format"] == "pt")
        let a = try #require(file.tensors["a"])
        #expect(a.shape == [2, 2] && a.dtype == "F32" && a.byteCount == 16)
        let p = file.data(for: a).assumingMemoryBound(to: Float.self)
        #expect(Array(UnsafeBufferPointer(start: p, count: 4)) == [1, 2, 3, 4])
        #expect(file.tensors["b"]?.byteCount == 6)
    }

    @Test func rejectsDamagedFiles() throws {
        let good = makeSafetensors([("a", "F32", [2], floatBytes([1, 2]))])
        for length in [0, 4, 8, 20, good.count - 1] {
            #expect(throws: FormatError.self, "length \(length)") { try SafetensorsFile(path: write(good.prefix(length), name: "t.safetensors")) }
        }
        let cases = [
            "not json at all",
            "[1, 2, 3]",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}",
        ]
        for header in cases {
            let data = makeSafetensors([("a", "F32", [2], floatBytes([1, 2]))], headerOverride: header)
            #expect(throws: FormatError.self, "\(header)") { try SafetensorsFile(path: write(data, name: "h.safetensors")) }
        }
        // Offsets past the data: the error gives the range the tensor claims, as file offsets.
        let past = makeSafetensors([("a", "F32", [2], floatBytes([1, 2]))], headerOverride: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,99]}}")
        let pastPath = try write(past, name: "p.safetensors")
        #expect {
            try SafetensorsFile(path: pastPath)
        } throws: { error in
            guard case let .tensorOutOfBounds(_, tensor, offset, size, _)? = error as? FormatError else { return false }
            // 8 bytes of length, then the header (padded to 8), then the data section.
            return tensor == "a" && size == 95 && (offset - 4) % 8 == 0 && offset > 8
        }
        let reversed = makeSafetensors([("a", "F32", [2], floatBytes([1, 2]))], headerOverride: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}")
        let reversedPath = try write(reversed, name: "r.safetensors")
        #expect {
            try SafetensorsFile(path: reversedPath)
        } throws: { error in
            "\(error)".contains("not an ordered pair")
        }
        // A header length that points past the end of the file.
        var huge = good
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        #expect(throws: FormatError.self) { try SafetensorsFile(path: write(huge, name: "x.safetensors")) }
    }

    @Test func readsShardedCheckpoints() throws {
        let dir = try TestResources.temporaryDirectory()
        try makeSafetensors([("x", "F32", [1], floatBytes([1]))]).write(to: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
        try makeSafetensors([("y", "F32", [1], floatBytes([2]))]).write(to: dir.appendingPathComponent("model-00002-of-00002.safetensors"))
        let index = #"{"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}"#
        try Data(index.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let checkpoint = try SafetensorsCheckpoint(directory: dir.path)
        #expect(checkpoint.shards.count == 2)
        #expect(checkpoint.tensorNames == ["x", "y"])
        let (file, info) = try #require(checkpoint.tensor(named: "y"))
        #expect(file.data(for: info).assumingMemoryBound(to: Float.self).pointee == 2)

        try Data(#"{"weight_map": {"x": "../evil.safetensors"}}"#.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        #expect(throws: FormatError.self) { try SafetensorsCheckpoint(directory: dir.path) }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        #expect(throws: FormatError.self) { try SafetensorsCheckpoint(directory: dir.path) }
    }
}
