import TramJSON

extension JSONValue {
    /// The string at `key`, throwing an error that names `path` when it is missing or not a string.
    func requiredString(_ key: String, path: String) throws(TokenizerError) -> String {
        guard let value = self[key]?.stringValue else {
            throw .invalidValue(path: "\(path).\(key)", reason: "expected a string")
        }
        return value
    }

    /// The boolean at `key`, or `defaultValue` when the key is missing or null.
    func optionalBool(_ key: String, path: String, default defaultValue: Bool) throws(TokenizerError) -> Bool {
        guard let value = self[key], !value.isNull else { return defaultValue }
        guard let bool = value.boolValue else {
            throw .invalidValue(path: "\(path).\(key)", reason: "expected a boolean")
        }
        return bool
    }
}
