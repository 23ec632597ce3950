import TramJSON
public import Foundation

/// Building values from Swift: literals keep their written order
/// (`["role": "user", "content": "Hi"]` as a `Value` is an ordered object), while a Swift
/// `Dictionary` has no order, so `init(_: [String: Value])` sorts its keys to stay deterministic.
extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .none }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) { self = .object(OrderedObject(elements)) }

    public init(_ string: String) { self = .string(string) }
    public init(_ int: Int) { self = .int(int) }
    public init(_ double: Double) { self = .double(double) }
    public init(_ bool: Bool) { self = .bool(bool) }
    public init(_ array: [Value]) { self = .array(array) }

    /// An object from an unordered Swift dictionary; keys sorted.
    public init(_ dictionary: [String: Value]) {
        self = .object(OrderedObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    /// Parses JSON text keeping object key order (which `JSONSerialization` loses), so a tool
    /// schema prints back through `tojson` exactly as the client sent it.
    public init(json data: Data) throws(TemplateError) {
        self = try Value.parseJSON(Array(data))
    }

    /// Parses JSON text keeping object key order.
    public init(json text: String) throws(TemplateError) {
        self = try Value.parseJSON(Array(text.utf8))
    }

    /// Nesting deeper than this is refused (a request body reaches templates as values).
    static let maximumJSONDepth = 256

    private static func parseJSON(_ bytes: [UInt8]) throws(TemplateError) -> Value {
        do {
            return Value(try JSONParser.parse(bytes, maximumDepth: maximumJSONDepth))
        } catch {
            throw .render("invalid JSON at byte \(error.offset): \(error.reason)")
        }
    }

    /// A parsed JSON document as template values: integers stay integers, a repeated key keeps
    /// its last value (as Python's `json` does).
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case let .bool(b): self = .bool(b)
        case let .integer(i): self = .int(i)
        case let .number(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map(Value.init))
        case let .object(members):
            var object = OrderedObject()
            for member in members { object[member.key] = Value(member.value) }
            self = .object(object)
        }
    }

    /// Converts what `JSONSerialization` returns (`NSDictionary` keys end up sorted, since their
    /// order is already lost). Throws for values JSON cannot hold.
    public init(any: Any) throws(TemplateError) {
        switch any {
        case is NSNull: self = .none
        case let v as Value: self = v
        case let s as String: self = .string(s)
        case let b as Bool where type(of: any) == Bool.self: self = .bool(b)
        case let i as Int where type(of: any) == Int.self: self = .int(i)
        case let d as Double where type(of: any) == Double.self: self = .double(d)
        case let n as NSNumber:
            // JSONSerialization gives NSNumber for bools and numbers alike.
            let kind = String(cString: n.objCType)
            if kind == "c" || kind == "B" {
                self = .bool(n.boolValue)
            } else if kind == "d" || kind == "f" {
                self = .double(n.doubleValue)
            } else {
                self = .int(n.intValue)
            }
        case let a as [Any]:
            var items: [Value] = []
            for item in a { items.append(try Value(any: item)) }
            self = .array(items)
        case let d as [String: Any]:
            var object = OrderedObject()
            for key in d.keys.sorted() { object[key] = try Value(any: d[key]!) }
            self = .object(object)
        default:
            throw .render("cannot convert \(type(of: any)) to a template value")
        }
    }
}
