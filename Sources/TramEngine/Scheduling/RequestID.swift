/// Names one request inside the engine. A wrapper rather than a bare `String` so a request id
/// cannot be confused with other strings (model names, stop strings) at a call site.
package struct RequestID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    package let rawValue: String

    package init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    package init(stringLiteral value: String) {
        rawValue = value
    }

    package var description: String { rawValue }

    package static func < (lhs: RequestID, rhs: RequestID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
