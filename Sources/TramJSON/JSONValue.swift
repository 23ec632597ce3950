/// A parsed JSON document, as read by `JSONParser`: the one JSON reader of the tokenizer (its
/// tokenizer.json files) and the template engine (request bodies as template values).
///
/// Objects keep their members in order as `(key, value)` pairs instead of a `Dictionary`:
/// Swift `String` keys compare by canonical equivalence, so a vocabulary holding both
/// "é" (U+00E9) and "e\u{301}" would silently lose one of them in a dictionary.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// An integer literal (no fraction or exponent) that fits an `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The member named `key` (compared scalar by scalar), or nil when absent or not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key.unicodeScalars.elementsEqual(key.unicodeScalars) {
            return member.value
        }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value as an integer when it is a number with no fractional part.
    public var intValue: Int? {
        if case .integer(let value) = self { return value }
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    public var doubleValue: Double? {
        if case .integer(let value) = self { return Double(value) }
        if case .number(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }
}
