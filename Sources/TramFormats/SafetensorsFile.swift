import Foundation

/// A parsed, memory-mapped `.safetensors` file.
///
/// Layout: `header length u64 LE | JSON header | data`. The header maps tensor names to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` with offsets relative to the data section;
/// an optional `__metadata__` entry holds strings.
public final class SafetensorsFile: Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let fileOffset: Int
        public let byteCount: Int
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    public let file: MappedFile

    /// Bytes per element of each dtype the format defines.
    public static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
    ]
    /// Headers larger than this are refused (the format's reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    public convenience init(path: String) throws(FormatError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        path = file.path
        var r = ByteReader(path: path, bytes: file.bytes)
        let headerLength = try r.read(UInt64.self, "header length")
        guard headerLength <= UInt64(min(r.remaining, SafetensorsFile.maxHeaderBytes)) else {
            throw .invalidSafetensors(path: path, reason: "header length \(headerLength) exceeds the file (\(file.count) bytes) or the 100 MB limit")
        }
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: file.bytes[8..<(8 + Int(headerLength))]))
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw .invalidSafetensors(path: path, reason: "header is not valid JSON")
        }
        guard let header = object as? [String: Any] else { throw .invalidSafetensors(path: path, reason: "header is not a JSON object") }

        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let m = entry as? [String: Any] else { throw .invalidSafetensors(path: path, reason: "__metadata__ is not an object") }
                for (k, v) in m { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let e = entry as? [String: Any],
                let dtype = e["dtype"] as? String,
                let shapeValues = e["shape"] as? [Any],
                let offsetValues = e["data_offsets"] as? [Any], offsetValues.count == 2
            else { throw .invalidSafetensors(path: path, reason: "tensor '\(name)' lacks dtype, shape or data_offsets") }
            guard let elementSize = SafetensorsFile.elementSizes[dtype] else {
                throw .invalidSafetensors(path: path, reason: "tensor '\(name)' has unknown dtype \(dtype)")
            }
            var shape: [Int] = []
            var elements = 1
            for s in shapeValues {
                guard let d = (s as? NSNumber)?.intValue, d >= 0, d < Int(Int32.max) else {
                    throw .invalidSafetensors(path: path, reason: "tensor '\(name)' has an invalid shape")
                }
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw .invalidSafetensors(path: path, reason: "tensor '\(name)' shape overflows") }
                elements = p
                shape.append(d)
            }
            guard let begin = (offsetValues[0] as? NSNumber)?.intValue, let end = (offsetValues[1] as? NSNumber)?.intValue,
                begin >= 0, end >= begin
            else {
                throw .invalidSafetensors(path: path, reason: "tensor '\(name)' has data_offsets \(offsetValues) that are not an ordered pair of byte offsets")
            }
            // Reported as absolute file offsets, the range the tensor claims.
            guard end <= dataSize else {
                throw .tensorOutOfBounds(path: path, tensor: name, offset: dataStart + begin, size: end - begin, fileSize: file.count)
            }
            let (bytes, o) = elements.multipliedReportingOverflow(by: elementSize)
            guard !o, bytes == end - begin else {
                throw .invalidSafetensors(path: path, reason: "tensor '\(name)' has \(end - begin) bytes but \(dtype) \(shape) needs \(bytes)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + begin, byteCount: bytes)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Pointer to a tensor's first byte, valid while this file is alive.
    public func data(for tensor: TensorInfo) -> UnsafeRawPointer {
        file.bytes.baseAddress! + tensor.fileOffset
    }
}
