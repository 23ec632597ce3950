/// A string-keyed map that remembers insertion order, as Python's `dict` does.
///
/// Chat templates print tool schemas with `tojson` and walk `d.items()`; both must follow the
/// order the caller gave (`{"type": …, "function": …}`), never a hash order.
public struct OrderedObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// Keys in insertion order; `storage` holds exactly these keys.
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init(elements)
    }

    public init(_ pairs: [(String, Value)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting an existing key keeps its position; setting `nil` removes the key.
    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Key–value pairs in insertion order.
    public var pairs: [(key: String, value: Value)] {
        keys.map { ($0, storage[$0]!) }
    }

    public var values: [Value] { keys.map { storage[$0]! } }

    /// Python dict equality: same keys and values, whatever the order.
    public static func == (lhs: OrderedObject, rhs: OrderedObject) -> Bool {
        lhs.storage == rhs.storage
    }
}
