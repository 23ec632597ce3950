/// Everything that can be wrong with a model file on disk. Every case names the file and says
/// where (byte offset, metadata key, tensor name) so that a user can tell a truncated download
/// from a format we do not support.
public enum FormatError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped (`reason` is the system's message).
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not the GGUF magic.
    case notGGUF(path: String)
    /// A GGUF version other than 2 or 3.
    case unsupportedVersion(path: String, version: UInt32)
    /// The file ends before a value that should be at `offset`.
    case truncated(path: String, offset: Int, reading: String)
    /// A value is present but impossible (a negative count, an absurd length, bad UTF-8 …).
    case invalidValue(path: String, offset: Int, reading: String, reason: String)
    /// A metadata value type id we do not know.
    case unknownValueType(path: String, offset: Int, key: String, type: UInt32)
    /// A tensor's element type id that no reader knows.
    case unknownTensorType(path: String, tensor: String, type: UInt32)
    /// A tensor whose data would lie outside the file, or is misaligned.
    case tensorOutOfBounds(path: String, tensor: String, offset: Int, size: Int, fileSize: Int)
    /// A tensor the model needs is not in the file.
    case missingTensor(path: String, tensor: String)
    /// A metadata key the model needs is not in the file.
    case missingKey(path: String, key: String)
    /// A metadata key holds a value of the wrong type.
    case typeMismatch(path: String, key: String, expected: String)
    /// A tensor has a shape or type other than the model requires.
    case badTensor(path: String, tensor: String, reason: String)
    /// A safetensors header is not valid.
    case invalidSafetensors(path: String, reason: String)
    /// A JSON file (config.json, index) is not what we expect.
    case invalidJSON(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): "cannot open \(path): \(reason)"
        case let .notGGUF(path): "\(path) is not a GGUF file (bad magic)"
        case let .unsupportedVersion(path, version): "\(path): unsupported GGUF version \(version) (only 2 and 3 are read)"
        case let .truncated(path, offset, reading):
            "\(path) is truncated: it ends before \(reading) at byte offset \(offset)"
        case let .invalidValue(path, offset, reading, reason):
            "\(path): invalid \(reading) at byte offset \(offset): \(reason)"
        case let .unknownValueType(path, offset, key, type):
            "\(path): metadata key '\(key)' has unknown value type \(type) at byte offset \(offset)"
        case let .unknownTensorType(path, tensor, type): "\(path): tensor '\(tensor)' has unknown type id \(type)"
        case let .tensorOutOfBounds(path, tensor, offset, size, fileSize):
            "\(path): tensor '\(tensor)' data [\(offset), \(offset + size)) lies outside the file (\(fileSize) bytes) or is misaligned"
        case let .missingTensor(path, tensor): "\(path): missing tensor '\(tensor)'"
        case let .missingKey(path, key): "\(path): missing metadata key '\(key)'"
        case let .typeMismatch(path, key, expected): "\(path): metadata key '\(key)' is not \(expected)"
        case let .badTensor(path, tensor, reason): "\(path): tensor '\(tensor)': \(reason)"
        case let .invalidSafetensors(path, reason): "\(path): invalid safetensors file: \(reason)"
        case let .invalidJSON(path, reason): "\(path): \(reason)"
        }
    }
}
