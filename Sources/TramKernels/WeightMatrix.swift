/// A 2-D weight `[rows (output features), columns (input features)]`, row-major in its file's
/// encoding, handed from the model loader to the kernels.
///
/// It exists so a loader can pass mmap'd tensor bytes straight to `KernelContext.matmul` without
/// copying or converting them: the kernels read `data` in place. `owner` keeps that memory alive
/// (the mapped file, or a buffer the matrix owns); the kernels never retain it in the hot path.
public struct WeightMatrix: @unchecked Sendable {
    public let type: DataType
    /// Output features.
    public let rows: Int
    /// Input features; a multiple of `type.blockElements`.
    public let columns: Int
    /// `rows × type.rowBytes(columns:)` bytes.
    public let data: UnsafeRawPointer
    /// Whatever keeps `data` alive.
    public let owner: AnyObject?

    public init(type: DataType, rows: Int, columns: Int, data: UnsafeRawPointer, owner: AnyObject? = nil) {
        precondition(rows >= 0 && columns >= 0 && columns % type.blockElements == 0,
                     "bad \(type) weight shape [\(rows), \(columns)]")
        self.type = type
        self.rows = rows
        self.columns = columns
        self.data = data
        self.owner = owner
    }

    /// Copies `bytes` (`rows × rowBytes`) into a buffer the new matrix owns.
    public init(type: DataType, rows: Int, columns: Int, copying bytes: UnsafeRawBufferPointer) {
        let size = rows * type.rowBytes(columns: columns)
        precondition(bytes.count >= size, "need \(size) bytes for a \(type) [\(rows), \(columns)] matrix, got \(bytes.count)")
        let buffer = AlignedBuffer(byteCount: size)
        if size > 0 { buffer.pointer.copyMemory(from: bytes.baseAddress!, byteCount: size) }
        self.init(type: type, rows: rows, columns: columns, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }

    /// Bytes per row.
    public var rowBytes: Int { type.rowBytes(columns: columns) }

    /// Dequantizes row `i` (`columns` floats) into `out`. Allocation-free: used for embedding
    /// lookups straight from a quantized token-embedding table.
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) out of [0, \(rows))")
        dequantize(type, data + i * rowBytes, out, count: columns)
    }

    /// An f32 copy of this matrix in a buffer it owns (for reference paths and tests).
    public func dequantizedToFloat32() -> WeightMatrix {
        let buffer = AlignedBuffer(byteCount: rows * columns * 4)
        let out = buffer.pointer.bindMemory(to: Float.self, capacity: rows * columns)
        for r in 0..<rows { row(r, into: out + r * columns) }
        return WeightMatrix(type: .f32, rows: rows, columns: columns, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }
}

/// A 64-byte-aligned heap buffer freed when the last reference goes.
package final class AlignedBuffer: @unchecked Sendable {
    package let pointer: UnsafeMutableRawPointer
    package let byteCount: Int

    package init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = .allocate(byteCount: max(byteCount, 64), alignment: 64)
    }

    deinit { pointer.deallocate() }
}
