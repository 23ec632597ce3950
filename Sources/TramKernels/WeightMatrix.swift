import CTramKernels
import Dispatch
import Foundation

/// How a quantized matrix's blocks are arranged in memory.
public enum WeightPacking: Sendable, Hashable {
    /// As in the file: GGUF block after block along each row.
    case ggml
    /// Q4_1, Q5_0 or Q8_0 rows regrouped 16 blocks at a time (`ctram_pack_q4_1x16`,
    /// `ctram_pack_q5_0x16`, `ctram_pack_q8_0x16`), so the AVX-512 VNNI and AVX2 tiles accumulate each
    /// block in its own int32 lane and do their float work once per 16 (8) blocks. Same size as
    /// `.ggml`; only this package's kernels read it.
    case x16
}

/// A 2-D weight `[rows (output features), columns (input features)]`, row-major in its file's
/// encoding, handed from the model loader to the kernels.
///
/// It exists so a loader can pass mmap'd tensor bytes straight to `KernelContext.matmul` without
/// copying or converting them: the kernels read `data` in place. `owner` keeps that memory alive
/// (the mapped file, or a buffer the matrix owns); the kernels never retain it in the hot path.
public struct WeightMatrix: @unchecked Sendable {
    public let type: DataType
    /// Block arrangement (`.ggml` unless `packedForKernels` repacked it).
    public let packing: WeightPacking
    /// Output features.
    public let rows: Int
    /// Input features; a multiple of `type.blockElements`.
    public let columns: Int
    /// `rows × type.rowBytes(columns:)` bytes.
    public let data: UnsafeRawPointer
    /// Whatever keeps `data` alive.
    public let owner: AnyObject?

    public init(type: DataType, rows: Int, columns: Int, data: UnsafeRawPointer, owner: AnyObject? = nil, packing: WeightPacking = .ggml) {
        precondition(rows >= 0 && columns >= 0 && columns % type.blockElements == 0,
                     "bad \(type) weight shape [\(rows), \(columns)]")
        precondition(packing == .ggml || Self.packableTypes.contains(type), "\(type) has no \(packing) packing")
        self.type = type
        self.packing = packing
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

    /// The types with an `.x16` layout.
    package static let packableTypes: Set<DataType> = [.q4_1, .q5_0, .q8_0]

    /// Dequantizes row `i` (`columns` floats) into `out`. Allocation-free: used for embedding
    /// lookups straight from a quantized token-embedding table.
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) out of [0, \(rows))")
        switch packing {
        case .ggml:
            dequantize(type, data + i * rowBytes, out, count: columns)
        case .x16:
            withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 16) { blocks in
                let source = data + i * rowBytes, blockCount = Int32(columns / 32)
                switch type {
                case .q4_1: ctram_unpack_q4_1x16_row(source, blocks.baseAddress!, blockCount)
                case .q5_0: ctram_unpack_q5_0x16_row(source, blocks.baseAddress!, blockCount)
                default: ctram_unpack_q8_0x16_row(source, blocks.baseAddress!, blockCount)
                }
                dequantize(type, UnsafeRawPointer(blocks.baseAddress!), out, count: columns)
            }
        }
    }

    /// The id `ctram_tile_kernel` knows this matrix's layout by.
    var kernelTypeID: UInt32 {
        switch packing {
        case .ggml: type.ggmlTypeID
        case .x16: UInt32(type == .q4_1 ? CTRAM_TYPE_Q4_1X16 : type == .q5_0 ? CTRAM_TYPE_Q5_0X16 : CTRAM_TYPE_Q8_0X16)
        }
    }

    /// This matrix in the layout the `isa` kernels run fastest on: Q4_1, Q5_0 and Q8_0 are repacked
    /// `.x16` (a copy the new matrix owns) when AVX2 or AVX-512 VNNI runs (both have x16 tiles);
    /// anything else, or a scalar context, gets the matrix as is. Any kernel variant still computes a packed matrix correctly (the scalar one included).
    public func packedForKernels(isa: KernelISA = .selected) -> WeightMatrix {
        guard Self.packableTypes.contains(type), packing == .ggml, isa >= .avx2, rows > 0 else { return self }
        let buffer = AlignedBuffer(byteCount: rows * rowBytes)
        // Rows pack independently: split them over the cores (model load time is start-up time).
        let chunks = min(rows, 4 * ProcessInfo.processInfo.activeProcessorCount)
        let perChunk = (rows + chunks - 1) / chunks, rowBytes = rowBytes, type = type, columns = columns
        let source = SendablePointer(data), target = SendablePointer(UnsafeRawPointer(buffer.pointer))
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let first = c * perChunk, count = min(rows, first + perChunk) - first
            guard count > 0 else { return }
            let src = source.pointer + first * rowBytes, dst = UnsafeMutableRawPointer(mutating: target.pointer + first * rowBytes)
            switch type {
            case .q4_1: ctram_pack_q4_1x16(src, dst, Int32(count), Int32(columns / 32))
            case .q5_0: ctram_pack_q5_0x16(src, dst, Int32(count), Int32(columns / 32))
            default: ctram_pack_q8_0x16(src, dst, Int32(count), Int32(columns / 32))
            }
        }
        return WeightMatrix(type: type, rows: rows, columns: columns, data: UnsafeRawPointer(buffer.pointer), owner: buffer, packing: .x16)
    }

    /// An f32 copy of this matrix in a buffer it owns (for reference paths and tests).
    public func dequantizedToFloat32() -> WeightMatrix {
        let buffer = AlignedBuffer(byteCount: rows * columns * 4)
        let out = buffer.pointer.bindMemory(to: Float.self, capacity: rows * columns)
        for r in 0..<rows { row(r, into: out + r * columns) }
        return WeightMatrix(type: .f32, rows: rows, columns: columns, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }
}

/// A raw pointer handed to concurrent work that only touches disjoint parts of its memory.
private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeRawPointer
    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }
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
