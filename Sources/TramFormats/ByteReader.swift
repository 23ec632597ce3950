/// A bounds-checked little-endian cursor over a file's bytes. Every read checks the remaining
/// length first, so a truncated or hostile file becomes a `FormatError` naming the offset.
struct ByteReader {
    let path: String
    let bytes: UnsafeRawBufferPointer
    var offset: Int = 0

    var remaining: Int { bytes.count - offset }

    mutating func require(_ n: Int, _ what: @autoclosure () -> String) throws(FormatError) {
        guard n >= 0, n <= remaining else { throw .truncated(path: path, offset: offset, reading: what()) }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(FormatError) -> T {
        try require(MemoryLayout<T>.size, what())
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws(FormatError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws(FormatError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A GGUF string: u64 length then that many UTF-8 bytes.
    mutating func readString(_ what: @autoclosure () -> String) throws(FormatError) -> String {
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining) else { throw .truncated(path: path, offset: start, reading: what()) }
        let n = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw .invalidValue(path: path, offset: start, reading: what(), reason: "string is not valid UTF-8")
        }
        offset += n
        return s
    }
}
