/// A parsed JSON document, as read by `JSONParser`.
///
/// Objects keep their members in order as `(key, value)` pairs instead of a `Dictionary`:
/// Swift `String` keys compare by canonical equivalence, so a vocabulary holding both
/// "é" (U+00E9) and "e\u{301}" would silently lose one of them in a dictionary.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The member named `key` (compared scalar by scalar), or nil when absent or not an object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key.unicodeScalars.elementsEqual(key.unicodeScalars) {
            return member.value
        }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value as an integer when it is a number with no fractional part.
    var intValue: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }
}

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
