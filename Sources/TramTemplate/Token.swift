/// One lexical unit of a template, with where it starts (1-based line and column).
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// Literal output between tags, already whitespace-controlled.
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// Punctuation and operators: `+`, `//`, `==`, `(`, `|`, …
        case op(String)
        case eof
    }

    let kind: Kind
    let line: Int
    let column: Int
}
