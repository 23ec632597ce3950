/// Why a grammar, regex or JSON schema could not be compiled, or why a matcher gave up. Each
/// message names the problem in the words of the source (a rule name, a schema path, an offset),
/// since it reaches the client as a 400.
public enum GrammarError: Error, Equatable, Sendable, CustomStringConvertible {
    /// EBNF text that does not parse: the byte offset (line and column) and what was expected.
    case syntax(String, line: Int, column: Int)
    /// A rule referenced but never defined.
    case undefinedRule(String)
    /// A rule defined twice.
    case duplicateRule(String)
    /// No `root` rule (the grammar's start).
    case missingRoot
    /// A rule that can reach itself without consuming a byte (left recursion): a top-down
    /// matcher would never stop expanding it. Rewrite it right-recursively or with `*`.
    case leftRecursion(String)
    /// A regular expression that does not parse or uses an unsupported construct.
    case regex(String, offset: Int)
    /// A JSON schema that is not valid or cannot be turned into a grammar, with the JSON pointer
    /// of the offending part.
    case schema(String, path: String)
    /// JSON-Schema keywords Tram does not enforce (listed, never silently ignored).
    case unsupportedKeywords([String], path: String)
    /// A grammar larger than the limits (rules, repetition counts) a request may ask for.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .syntax(let what, let line, let column): "grammar syntax error at line \(line), column \(column): \(what)"
        case .undefinedRule(let name): "grammar rule '\(name)' is used but not defined"
        case .duplicateRule(let name): "grammar rule '\(name)' is defined more than once"
        case .missingRoot: "grammar has no 'root' rule"
        case .leftRecursion(let name): "grammar rule '\(name)' is left-recursive (it can reach itself without consuming input); rewrite it with repetition"
        case .regex(let what, let offset): "regex error at offset \(offset): \(what)"
        case .schema(let what, let path): "JSON schema error at '\(path.isEmpty ? "#" : path)': \(what)"
        case .unsupportedKeywords(let keys, let path): "JSON schema at '\(path.isEmpty ? "#" : path)' uses keywords Tram does not support: \(keys.joined(separator: ", "))"
        case .tooLarge(let what): "grammar too large: \(what)"
        }
    }
}
