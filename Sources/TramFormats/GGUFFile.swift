/// A parsed, memory-mapped GGUF file (versions 2 and 3).
///
/// Layout: `magic "GGUF" | version u32 | tensor count u64 | metadata count u64 |
/// metadata (key string, type u32, value)… | tensor infos (name, n_dims u32, dims u64…, type u32,
/// offset u64)… | padding to general.alignment | tensor data`. Every count, length and offset is
/// checked against the file's size before use, so a damaged file throws instead of crashing.
public final class GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Offset of the tensor data section from the start of the file.
    public let dataOffset: Int
    /// The mapping; tensors' memory stays valid as long as this object is alive.
    public let file: MappedFile
    private let tensorIndex: [String: Int]

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian
    /// No GGUF value nests this deep; the limit stops a hostile file from exhausting the stack.
    static let maxArrayDepth = 8

    public convenience init(path: String) throws(FormatError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        path = file.path
        var r = ByteReader(path: file.path, bytes: file.bytes)
        guard r.remaining >= 4, try r.read(UInt32.self, "magic") == GGUFFile.magic else { throw .notGGUF(path: file.path) }
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: file.path, version: version) }
        let tensorCount = try r.read(UInt64.self, "tensor count")
        let kvCount = try r.read(UInt64.self, "metadata count")
        // Each metadata entry takes at least 12 bytes and each tensor info at least 24, so larger
        // counts cannot fit in the file: reject them before reserving anything.
        guard kvCount <= UInt64(r.remaining / 12) else {
            throw .invalidValue(path: path, offset: 16, reading: "metadata count", reason: "\(kvCount) entries cannot fit in the file")
        }
        guard tensorCount <= UInt64(r.remaining / 24) else {
            throw .invalidValue(path: path, offset: 8, reading: "tensor count", reason: "\(tensorCount) tensors cannot fit in the file")
        }

        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        for i in 0..<Int(kvCount) {
            let keyOffset = r.offset
            let key = try r.readString("key of metadata entry \(i)")
            let typeOffset = r.offset
            let type = try r.read(UInt32.self, "type of metadata '\(key)'")
            let value = try GGUFFile.readValue(&r, type: type, typeOffset: typeOffset, key: key, depth: 0)
            guard values[key] == nil else {
                throw .invalidValue(path: path, offset: keyOffset, reading: "metadata key '\(key)'", reason: "duplicate key")
            }
            keys.append(key)
            values[key] = value
        }
        metadataKeys = keys
        metadata = values

        var alignment = 32
        if let a = values["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0 else {
                throw .invalidValue(path: path, offset: 0, reading: "general.alignment", reason: "must be a power of two, got \(a)")
            }
            alignment = v
        }
        self.alignment = alignment

        struct RawInfo { var name: String; var dims: [Int]; var type: GGMLType; var offset: Int }
        var raw: [RawInfo] = []
        var index: [String: Int] = [:]
        for i in 0..<Int(tensorCount) {
            let name = try r.readString("name of tensor \(i)")
            let dimsOffset = r.offset
            let nDims = try r.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard (1...4).contains(nDims) else {
                throw .invalidValue(path: path, offset: dimsOffset, reading: "tensor '\(name)'", reason: "\(nDims) dimensions (1 to 4 allowed)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let off = r.offset
                let v = try r.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard v <= UInt64(Int32.max) else {
                    throw .invalidValue(path: path, offset: off, reading: "tensor '\(name)'", reason: "dimension \(d) is \(v)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(v))
                guard !overflow, product < (1 << 48) else {
                    throw .invalidValue(path: path, offset: off, reading: "tensor '\(name)'", reason: "element count overflows")
                }
                elements = product
                dims.append(Int(v))
            }
            let typeID = try r.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(id: typeID) else { throw .unknownTensorType(path: path, tensor: name, type: typeID) }
            guard dims[0] % type.blockElements == 0 else {
                throw .badTensor(path: path, tensor: name, reason: "row length \(dims[0]) is not a multiple of \(type.name)'s block of \(type.blockElements)")
            }
            let offOffset = r.offset
            let offset = try r.read(UInt64.self, "data offset of tensor '\(name)'")
            guard offset < UInt64(Int.max / 2) else {
                throw .invalidValue(path: path, offset: offOffset, reading: "tensor '\(name)'", reason: "data offset \(offset)")
            }
            guard index[name] == nil else {
                throw .invalidValue(path: path, offset: dimsOffset, reading: "tensor '\(name)'", reason: "duplicate tensor name")
            }
            index[name] = raw.count
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: Int(offset)))
        }

        let dataOffset = (r.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raw.count)
        for t in raw {
            let elements = t.dims.reduce(1, *)
            let size = t.type.byteCount(elements: elements) ?? 0
            let start = dataOffset + t.offset
            guard t.offset % alignment == 0, start <= file.count, size <= file.count - start else {
                throw .tensorOutOfBounds(path: path, tensor: t.name, offset: start, size: size, fileSize: file.count)
            }
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, fileOffset: start, byteCount: size))
        }
        tensors = infos
        tensorIndex = index
    }

    private static func readValue(
        _ r: inout ByteReader, type: UInt32, typeOffset: Int, key: String, depth: Int
    ) throws(FormatError) -> GGUFValue {
        let what = "value of metadata '\(key)'"
        switch type {
        case 0: return .uint8(try r.read(UInt8.self, what))
        case 1: return .int8(try r.read(Int8.self, what))
        case 2: return .uint16(try r.read(UInt16.self, what))
        case 3: return .int16(try r.read(Int16.self, what))
        case 4: return .uint32(try r.read(UInt32.self, what))
        case 5: return .int32(try r.read(Int32.self, what))
        case 6: return .float32(try r.readFloat(what))
        case 7:
            let off = r.offset
            let b = try r.read(UInt8.self, what)
            guard b <= 1 else { throw .invalidValue(path: r.path, offset: off, reading: what, reason: "bool byte \(b)") }
            return .bool(b == 1)
        case 8: return .string(try r.readString(what))
        case 9:
            guard depth < maxArrayDepth else {
                throw .invalidValue(path: r.path, offset: typeOffset, reading: what, reason: "arrays nested deeper than \(maxArrayDepth)")
            }
            let elementTypeOffset = r.offset
            let elementType = try r.read(UInt32.self, "element type of metadata '\(key)'")
            let countOffset = r.offset
            let count = try r.read(UInt64.self, "element count of metadata '\(key)'")
            guard let size = minimumSize(ofValueType: elementType) else {
                throw .unknownValueType(path: r.path, offset: elementTypeOffset, key: key, type: elementType)
            }
            guard count <= UInt64(r.remaining / size) else {
                throw .truncated(path: r.path, offset: countOffset, reading: "\(count) elements of metadata '\(key)'")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                items.append(try readValue(&r, type: elementType, typeOffset: elementTypeOffset, key: key, depth: depth + 1))
            }
            return .array(items)
        case 10: return .uint64(try r.read(UInt64.self, what))
        case 11: return .int64(try r.read(Int64.self, what))
        case 12: return .float64(try r.readDouble(what))
        default: throw .unknownValueType(path: r.path, offset: typeOffset, key: key, type: type)
        }
    }

    /// The fewest bytes one value of a type can occupy, or nil for an unknown type.
    private static func minimumSize(ofValueType type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: nil
        }
    }

    // MARK: - Lookups

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Pointer to a tensor's first byte, valid while this file is alive.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        file.bytes.baseAddress! + tensor.fileOffset
    }

    public func requireTensor(_ name: String) throws(FormatError) -> GGUFTensorInfo {
        guard let t = tensor(named: name) else { throw .missingTensor(path: path, tensor: name) }
        return t
    }

    public func value(_ key: String) -> GGUFValue? { metadata[key] }

    public func int(_ key: String) throws(FormatError) -> Int {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let i = v.intValue else { throw .typeMismatch(path: path, key: key, expected: "an integer") }
        return i
    }

    public func double(_ key: String) throws(FormatError) -> Double {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let d = v.doubleValue else { throw .typeMismatch(path: path, key: key, expected: "a number") }
        return d
    }

    public func string(_ key: String) throws(FormatError) -> String {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let s = v.stringValue else { throw .typeMismatch(path: path, key: key, expected: "a string") }
        return s
    }

    /// Optional lookups: nil when absent, a `typeMismatch` error when present with the wrong type.
    public func optionalInt(_ key: String) throws(FormatError) -> Int? {
        metadata[key] == nil ? nil : try int(key)
    }

    public func optionalDouble(_ key: String) throws(FormatError) -> Double? {
        metadata[key] == nil ? nil : try double(key)
    }

    public func optionalString(_ key: String) throws(FormatError) -> String? {
        metadata[key] == nil ? nil : try string(key)
    }

    public func optionalBool(_ key: String) throws(FormatError) -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.boolValue else { throw .typeMismatch(path: path, key: key, expected: "a bool") }
        return b
    }

    public func optionalStringArray(_ key: String) throws(FormatError) -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.arrayValue else { throw .typeMismatch(path: path, key: key, expected: "an array of strings") }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let s = item.stringValue else { throw .typeMismatch(path: path, key: key, expected: "an array of strings") }
            out.append(s)
        }
        return out
    }

    public func optionalIntArray(_ key: String) throws(FormatError) -> [Int]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.arrayValue else { throw .typeMismatch(path: path, key: key, expected: "an array of integers") }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let s = item.intValue else { throw .typeMismatch(path: path, key: key, expected: "an array of integers") }
            out.append(s)
        }
        return out
    }

    public func optionalFloatArray(_ key: String) throws(FormatError) -> [Float]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.arrayValue else { throw .typeMismatch(path: path, key: key, expected: "an array of numbers") }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let s = item.doubleValue else { throw .typeMismatch(path: path, key: key, expected: "an array of numbers") }
            out.append(Float(s))
        }
        return out
    }
}
