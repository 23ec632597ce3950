/// The parsed template: statements (`Node`) holding expressions (`Expression`).
/// Value types only, so a parsed `Template` is `Sendable` and can render on any thread.
indirect enum Node: Sendable {
    /// Literal text between tags.
    case text(String)
    /// `{{ expression }}`
    case output(Expression)
    /// `{% if %}…{% elif %}…{% else %}…{% endif %}`: the first true branch runs.
    case conditional([Branch], otherwise: [Node])
    case forLoop(ForLoop)
    /// `{% set target = value %}`
    case set(AssignTarget, Expression)
    /// `{% set target | filters %}body{% endset %}`
    case setBlock(AssignTarget, body: [Node], filters: [FilterCall])
    /// `{% macro name(params) %}…{% endmacro %}`
    case macro(Macro)
    /// `{% call(params) callee(args) %}body{% endcall %}`: `caller()` in the macro renders body.
    case callBlock(call: Expression, caller: Macro)
    /// `{% filter name %}body{% endfilter %}`
    case filterBlock(body: [Node], filters: [FilterCall])
    case breakLoop
    case continueLoop
}

struct Branch: Sendable {
    let condition: Expression
    let body: [Node]
}

struct ForLoop: Sendable {
    /// One name, or several for unpacking (`for k, v in d.items()`).
    let targets: [String]
    let unpack: Bool
    let iterable: Expression
    /// `for x in xs if cond`: skipped items do not count in `loop.index`.
    let condition: Expression?
    let body: [Node]
    /// Runs when no item was iterated.
    let otherwise: [Node]
}

enum AssignTarget: Sendable {
    case name(String)
    /// `ns.attribute`, on a `namespace()` object.
    case attribute(String, String)
    case tuple([String])
}

/// A macro's parameters and body; also the body of a `{% call %}` block.
struct Macro: Sendable, Equatable {
    let name: String
    let parameters: [Parameter]
    let body: [Node]

    struct Parameter: Sendable {
        let name: String
        let defaultValue: Expression?
    }

    /// Macros compare by name: two `Value`s holding the same macro are equal.
    static func == (lhs: Macro, rhs: Macro) -> Bool { lhs.name == rhs.name }
}

struct FilterCall: Sendable {
    let name: String
    let arguments: Arguments
}

struct Arguments: Sendable {
    var positional: [Expression] = []
    var keyword: [(String, Expression)] = []
}

indirect enum Expression: Sendable {
    case literal(Value)
    case name(String)
    case list([Expression])
    /// Tuples behave as lists when evaluated.
    case tuple([Expression])
    case dict([(Expression, Expression)])
    /// `a.b`: attribute first, then item.
    case attribute(Expression, String)
    /// `a[b]`: item first, then attribute.
    case item(Expression, Expression)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, Arguments)
    case filter(Expression, FilterCall)
    /// `a is [not] name(args)`
    case test(Expression, name: String, arguments: Arguments, negated: Bool)
    case not(Expression)
    case negate(Expression)
    case plus(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case binary(BinaryOperator, Expression, Expression)
    /// `a < b < c` compares pairwise, all must hold.
    case compare(Expression, [(CompareOperator, Expression)])
    /// `then if condition else otherwise` (otherwise may be absent: undefined).
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**", concat = "~"
}

enum CompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case `in` = "in", notIn = "not in"
}
