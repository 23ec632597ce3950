import Foundation
import Testing
import TramFormats
import TramTestSupport

/// A small GGUF with every metadata value type, nested arrays, and tensors of several types.
func makeSampleGGUF(version: UInt32 = 3, alignment: Int? = nil) -> Data {
    var w = GGUFWriter()
    w.version = version
    w.add("general.architecture", .string("llama"))
    if let alignment {
        w.alignment = alignment
        w.add("general.alignment", .uint32(UInt32(alignment)))
    }
    w.add("u8", .uint8(200))
    w.add("i8", .int8(-100))
    w.add("u16", .uint16(60000))
    w.add("i16", .int16(-30000))
    w.add("u32", .uint32(4_000_000_000))
    w.add("i32", .int32(-2_000_000_000))
    w.add("u64", .uint64(1 << 40))
    w.add("i64", .int64(-(1 << 40)))
    w.add("f32", .float32(0.5))
    w.add("f64", .float64(-1.25))
    w.add("flag", .bool(true))
    w.add("text", .string("héllo ✓"))
    w.add("numbers", .array([.int32(1), .int32(-2), .int32(3)]))
    w.add("nested", .array([.array([.string("a"), .string("b")]), .array([.string("c")])]))
    w.add("empty", .array([]))
    w.addTensor("vector", dimensions: [4], floats: [1, 2, 3, 4])
    w.addTensor("matrix", dimensions: [3, 2], floats: [1, 2, 3, 4, 5, 6])
    w.addTensor("q8", dimensions: [32, 2], type: .q8_0, bytes: Data(repeating: 1, count: 68))
    return w.encoded()
}

func write(_ data: Data, name: String = "model.gguf") throws -> String {
    let url = try TestResources.temporaryDirectory().appendingPathComponent(name)
    try data.write(to: url)
    return url.path
}

@Suite struct GGUFFileTests {
    @Test(arguments: [UInt32(2), 3])
    func readsEveryValueType(version: UInt32) throws {
        let file = try GGUFFile(path: write(makeSampleGGUF(version: version)))
        #expect(file.version == version)
        #expect(file.metadata["u8"] == .uint8(200))
        #expect(file.metadata["i8"] == .int8(-100))
        #expect(file.metadata["u16"] == .uint16(60000))
        #expect(file.metadata["i16"] == .int16(-30000))
        #expect(try file.int("u32") == 4_000_000_000)
        #expect(try file.int("i32") == -2_000_000_000)
        #expect(try file.int("u64") == 1 << 40)
        #expect(try file.int("i64") == -(1 << 40))
        #expect(try file.double("f32") == 0.5)
        #expect(try file.double("f64") == -1.25)
        #expect(try file.optionalBool("flag") == true)
        #expect(try file.string("text") == "héllo ✓")
        #expect(try file.optionalIntArray("numbers") == [1, -2, 3])
        #expect(file.metadata["nested"] == .array([.array([.string("a"), .string("b")]), .array([.string("c")])]))
        #expect(file.metadata["empty"] == .array([]))
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(try file.optionalInt("absent") == nil)
        #expect(throws: FormatError.typeMismatch(path: file.path, key: "text", expected: "an integer")) { try file.int("text") }
    }

    @Test func readsTensorsAtTheirAlignedOffsets() throws {
        for alignment in [32, 64, 256] {
            let file = try GGUFFile(path: write(makeSampleGGUF(alignment: alignment)))
            #expect(file.alignment == alignment)
            #expect(file.dataOffset % alignment == 0)
            let matrix = try #require(file.tensor(named: "matrix"))
            #expect(matrix.dimensions == [3, 2])
            #expect(matrix.columns == 3 && matrix.rows == 2)
            #expect(matrix.type == .f32)
            let p = file.data(for: matrix).assumingMemoryBound(to: Float.self)
            #expect(Array(UnsafeBufferPointer(start: p, count: 6)) == [1, 2, 3, 4, 5, 6])
            let q8 = try #require(file.tensor(named: "q8"))
            #expect(q8.byteCount == 68 && q8.type == .q8_0)
            #expect(q8.fileOffset % alignment == 0)
        }
    }

    @Test func rejectsBadMagicAndVersion() throws {
        var data = makeSampleGGUF()
        data[0] = UInt8(ascii: "X")
        let p1 = try write(data)
        #expect(throws: FormatError.notGGUF(path: p1)) { try GGUFFile(path: p1) }
        let p2 = try write(makeSampleGGUF(version: 1))
        #expect(throws: FormatError.unsupportedVersion(path: p2, version: 1)) { try GGUFFile(path: p2) }
        let p3 = try write(Data())
        #expect(throws: FormatError.notGGUF(path: p3)) { try GGUFFile(path: p3) }
        #expect(throws: FormatError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
    }

    /// Cutting the file anywhere must give an error, never a crash or a silently short tensor.
    @Test func everyTruncationIsAnError() throws {
        let data = makeSampleGGUF()
        let dir = try TestResources.temporaryDirectory()
        // Bytes after the last tensor's data are alignment padding: cutting them leaves a valid file.
        let whole = try GGUFFile(path: write(data))
        let end = whole.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        #expect(end > data.count - whole.alignment)
        for length in 0..<end {
            let path = dir.appendingPathComponent("t\(length).gguf").path
            try data.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(throws: FormatError.self, "length \(length)") { try GGUFFile(path: path) }
            try FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func truncationInsideMetadataNamesTheKeyAndOffset() throws {
        let data = makeSampleGGUF()
        // Cut in the middle of the value of "text".
        let marker = Data("héllo".utf8)
        let at = try #require(data.range(of: marker)).lowerBound + 2
        let path = try write(data.prefix(at))
        guard case let .truncated(p, offset, reading)? = formatError({ try GGUFFile(path: path) }) else {
            Issue.record("expected a truncation error")
            return
        }
        #expect(p == path)
        #expect(reading.contains("'text'"))
        #expect(offset > 0 && offset < at)
    }

    @Test func truncatedTensorDataNamesTheTensor() throws {
        let data = makeSampleGGUF()
        let path = try write(data.prefix(data.count - 40))
        guard case let .tensorOutOfBounds(_, tensor, _, size, fileSize)? = formatError({ try GGUFFile(path: path) }) else {
            Issue.record("expected tensorOutOfBounds")
            return
        }
        #expect(tensor == "q8")
        #expect(size == 68)
        #expect(fileSize == data.count - 40)
    }

    @Test func rejectsImpossibleValues() throws {
        // Huge string length.
        var w = GGUFWriter()
        w.add("k", .string("abc"))
        var data = w.encoded()
        let lengthOffset = 24 + 8 + 1 + 4  // header, key length, key "k", type
        data.replaceSubrange(lengthOffset..<(lengthOffset + 8), with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        #expect(throws: FormatError.self) { try GGUFFile(path: write(data)) }

        // Unknown value type.
        data = w.encoded()
        data.replaceSubrange(33..<37, with: withUnsafeBytes(of: UInt32(99).littleEndian) { Data($0) })
        let p = try write(data)
        #expect(throws: FormatError.unknownValueType(path: p, offset: 33, key: "k", type: 99)) { try GGUFFile(path: p) }

        // Absurd counts in the header.
        data = w.encoded()
        data.replaceSubrange(16..<24, with: withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { Data($0) })
        #expect(throws: FormatError.self) { try GGUFFile(path: write(data)) }

        // Bad alignment, bad bool, duplicate key, invalid UTF-8.
        var w2 = GGUFWriter()
        w2.add("general.alignment", .uint32(24))
        #expect(throws: FormatError.self) { try GGUFFile(path: write(w2.encoded())) }
        var w3 = GGUFWriter()
        w3.add("b", .bool(true))
        data = w3.encoded()
        data[24 + 8 + 1 + 4] = 7  // header, key length, "b", type: the bool's byte
        #expect(throws: FormatError.self) { try GGUFFile(path: write(data)) }
        var w4 = GGUFWriter()
        w4.add("a", .uint8(1))
        w4.add("a", .uint8(2))
        #expect(throws: FormatError.self) { try GGUFFile(path: write(w4.encoded())) }
        var w5 = GGUFWriter()
        w5.add("s", .string("ab"))
        data = w5.encoded()
        data[24 + 8 + 1 + 4 + 8 + 1] = 0xFF  // the second byte of "ab"
        #expect(throws: FormatError.self) { try GGUFFile(path: write(data)) }
    }

    @Test func rejectsBadTensorInfos() throws {
        // Unknown tensor type.
        var w = GGUFWriter()
        w.addTensor("t", dimensions: [4], type: GGMLType.f32, bytes: Data(count: 16))
        var data = w.encoded()
        let typeOffset = 24 + 8 + 1 + 4 + 8
        data.replaceSubrange(typeOffset..<(typeOffset + 4), with: withUnsafeBytes(of: UInt32(77).littleEndian) { Data($0) })
        let p = try write(data)
        #expect(throws: FormatError.unknownTensorType(path: p, tensor: "t", type: 77)) { try GGUFFile(path: p) }

        // Row length not a multiple of the block.
        var w2 = GGUFWriter()
        w2.addTensor("q", dimensions: [31], type: .q8_0, bytes: Data(count: 34))
        #expect(throws: FormatError.self) { try GGUFFile(path: write(w2.encoded())) }

        // Too many dimensions.
        var w3 = GGUFWriter()
        w3.addTensor("d", dimensions: [1, 1, 1, 1, 1], type: .f32, bytes: Data(count: 4))
        #expect(throws: FormatError.self) { try GGUFFile(path: write(w3.encoded())) }

        // Offset beyond the file.
        var w4 = GGUFWriter()
        w4.addTensor("far", dimensions: [4], type: .f32, bytes: Data(count: 16))
        data = w4.encoded()
        let offsetOffset = 24 + 8 + 3 + 4 + 8 + 4
        data.replaceSubrange(offsetOffset..<(offsetOffset + 8), with: withUnsafeBytes(of: UInt64(1 << 20).littleEndian) { Data($0) })
        let p4 = try write(data)
        #expect(throws: FormatError.self) { try GGUFFile(path: p4) }
    }

    /// Random byte flips in the header region never crash the reader: each copy either reads,
    /// with every tensor's bytes inside the file and every metadata value readable, or fails
    /// with a `FormatError` that names the file. Both outcomes occur.
    @Test func randomCorruptionNeverCrashes() throws {
        let data = makeSampleGGUF()
        var generator = SeededGenerator(seed: 42)
        let dir = try TestResources.temporaryDirectory()
        var read = 0, refused = 0
        for i in 0..<300 {
            var copy = data
            for _ in 0..<3 {
                let at = Int(generator.next() % UInt64(min(copy.count, 700)))
                copy[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            let path = dir.appendingPathComponent("c\(i).gguf").path
            try copy.write(to: URL(fileURLWithPath: path))
            do {
                let file = try GGUFFile(path: path)
                for key in file.metadataKeys { #expect(file.metadata[key] != nil) }
                for t in file.tensors {
                    #expect(t.fileOffset >= 0 && t.fileOffset + t.byteCount <= copy.count, "\(t.name) lies outside the file")
                }
                read += 1
            } catch let error as FormatError {
                #expect(error.description.contains(path), "\(error.description)")
                refused += 1
            } catch {
                Issue.record("copy \(i): not a FormatError: \(error)")
            }
        }
        #expect(read > 0 && refused > 0, "\(read) read, \(refused) refused")
    }

    @Test func readsTheRealModel() throws {
        let file = try GGUFFile(path: TestResources.realModelPath())
        #expect(file.version == 3)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.int("llama.block_count") == 30)
        #expect(try file.int("llama.embedding_length") == 576)
        #expect(try file.double("llama.rope.freq_base") == 100_000)
        #expect(try file.optionalStringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(file.tensors.count == 272)
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0 && embedding.dimensions == [576, 49152])
        #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == .q4_1)
        #expect(file.tensor(named: "output.weight") == nil)
    }

    @Test func truncatedRealModelNamesATensor() throws {
        let source = try TestResources.realModelPath()
        let handle = try #require(FileHandle(forReadingAtPath: source))
        let prefix = try #require(try handle.read(upToCount: 20_000_000))
        let path = try write(prefix)
        guard case let .tensorOutOfBounds(p, tensor, _, _, fileSize)? = formatError({ try GGUFFile(path: path) }) else {
            Issue.record("expected tensorOutOfBounds")
            return
        }
        #expect(p == path && !tensor.isEmpty && fileSize == 20_000_000)
    }
}

/// The `FormatError` that `body` throws, or nil when it succeeds or throws something else.
func formatError(_ body: () throws -> some Any) -> FormatError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? FormatError
    }
}
