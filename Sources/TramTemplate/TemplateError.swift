/// Why a template could not be parsed or rendered.
public enum TemplateError: Error, Equatable, CustomStringConvertible {
    /// The source is not valid template syntax (line and column of the problem).
    case syntax(String, line: Int, column: Int)
    /// Rendering failed (undefined operation, wrong type, …).
    case render(String)
    /// The template called `raise_exception(message)`.
    case raised(String)

    public var description: String {
        switch self {
        case let .syntax(m, line, column): "template syntax error at \(line):\(column): \(m)"
        case let .render(m): "template error: \(m)"
        case let .raised(m): m
        }
    }
}
