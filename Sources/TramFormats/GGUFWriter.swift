public import Foundation

/// Builds a GGUF (v3) file in memory. Tests use it to make tiny models and damaged files; the
/// layout it writes is exactly what `GGUFFile` reads.
public struct GGUFWriter {
    public var version: UInt32 = 3
    public var alignment = 32
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, bytes: Data)] = []

    public init() {}

    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a tensor; `dimensions` in ggml order (row length first), `bytes` already encoded.
    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, bytes: Data) {
        tensors.append((name, dimensions, type, bytes))
    }

    /// Adds an f32 tensor.
    public mutating func addTensor(_ name: String, dimensions: [Int], floats: [Float]) {
        var data = Data(capacity: floats.count * 4)
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        addTensor(name, dimensions: dimensions, type: .f32, bytes: data)
    }

    public func encoded() -> Data {
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) {
            u64(UInt64(s.utf8.count))
            out.append(contentsOf: Array(s.utf8))
        }
        func typeID(_ v: GGUFValue) -> UInt32 {
            switch v {
            case .uint8: 0
            case .int8: 1
            case .uint16: 2
            case .int16: 3
            case .uint32: 4
            case .int32: 5
            case .float32: 6
            case .bool: 7
            case .string: 8
            case .array: 9
            case .uint64: 10
            case .int64: 11
            case .float64: 12
            }
        }
        func value(_ v: GGUFValue) {
            switch v {
            case let .uint8(x): out.append(x)
            case let .int8(x): out.append(UInt8(bitPattern: x))
            case let .uint16(x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case let .int16(x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case let .uint32(x): u32(x)
            case let .int32(x): u32(UInt32(bitPattern: x))
            case let .uint64(x): u64(x)
            case let .int64(x): u64(UInt64(bitPattern: x))
            case let .float32(x): u32(x.bitPattern)
            case let .float64(x): u64(x.bitPattern)
            case let .bool(x): out.append(x ? 1 : 0)
            case let .string(x): string(x)
            case let .array(items):
                u32(items.first.map(typeID) ?? 4)
                u64(UInt64(items.count))
                for item in items { value(item) }
            }
        }
        u32(0x4655_4747)
        u32(version)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, v) in metadata {
            string(key)
            u32(typeID(v))
            value(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            string(t.name)
            u32(UInt32(t.dimensions.count))
            for d in t.dimensions { u64(UInt64(d)) }
            u32(t.type.id)
            u64(UInt64(o))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(t.bytes)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }
}
