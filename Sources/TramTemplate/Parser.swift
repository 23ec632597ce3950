/// Builds the AST from tokens with jinja2's grammar and precedence, loosest first:
///
///     x if c else y  →  or  →  and  →  not  →  comparisons (== != < > <= >= in, not in)
///     →  + -  →  ~  →  * / // %  →  **  →  unary -  →  postfix (.a [i] (args))  →  |filter, is test
///
/// As in jinja2, filters and tests bind tighter than every binary operator (`-x|abs` is
/// `abs(-x)`; `not x is defined` is `not (x is defined)`).
struct Parser {
    private let tokens: [Token]
    private var index = 0
    /// Nesting of blocks and sub-expressions so far; a hostile `((((…` or `{% if %}` tower
    /// throws instead of exhausting the stack.
    private var depth = 0
    private static let maxDepth = 100

    private mutating func enter() throws(TemplateError) {
        depth += 1
        if depth > Parser.maxDepth { throw error("template nested too deeply") }
    }

    static func parse(_ tokens: [Token]) throws(TemplateError) -> [Node] {
        var parser = Parser(tokens: tokens)
        let (body, end) = try parser.subparse(until: [])
        if let end { throw parser.error("Unexpected end tag '\(end)'") }
        return body
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: Token stream

    private var current: Token { tokens[min(index, tokens.count - 1)] }
    private func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func error(_ message: String, at token: Token? = nil) -> TemplateError {
        let t = token ?? current
        return .syntax(message, line: t.line, column: t.column)
    }

    private func isOp(_ op: String, _ token: Token? = nil) -> Bool {
        if case .op(op) = (token ?? current).kind { true } else { false }
    }

    private func isName(_ name: String, _ token: Token? = nil) -> Bool {
        if case .name(name) = (token ?? current).kind { true } else { false }
    }

    private mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { advance(); return true }
        return false
    }

    private mutating func skipName(_ name: String) -> Bool {
        if isName(name) { advance(); return true }
        return false
    }

    private mutating func expectOp(_ op: String) throws(TemplateError) {
        guard skipOp(op) else { throw error("expected '\(op)', got \(describe(current))") }
    }

    private mutating func expectName() throws(TemplateError) -> String {
        guard case let .name(name) = current.kind else { throw error("expected a name, got \(describe(current))") }
        advance()
        return name
    }

    private mutating func expectKeyword(_ name: String) throws(TemplateError) {
        guard skipName(name) else { throw error("expected '\(name)', got \(describe(current))") }
    }

    private mutating func expectBlockEnd() throws(TemplateError) {
        guard case .blockEnd = current.kind else { throw error("expected end of statement block, got \(describe(current))") }
        advance()
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case let .text(t): "text '\(t.prefix(20))'"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case let .name(n): "'\(n)'"
        case let .string(s): "string '\(s.prefix(20))'"
        case let .integer(i): "'\(i)'"
        case let .float(d): "'\(d)'"
        case let .op(o): "'\(o)'"
        case .eof: "end of template"
        }
    }

    // MARK: Statements

    /// Parses nodes until a block tag named in `endTags`; returns them and that tag (left
    /// unconsumed after its name), or nil at the end of the template.
    private mutating func subparse(until endTags: Set<String>) throws(TemplateError) -> ([Node], String?) {
        try enter()
        defer { depth -= 1 }
        var body: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case let .text(text):
                body.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                let expression = try parseTuple()
                guard case .variableEnd = current.kind else { throw error("expected end of print statement, got \(describe(current))") }
                advance()
                body.append(.output(expression))
            case .blockBegin:
                advance()
                guard case let .name(tag) = current.kind else { throw error("expected a statement name, got \(describe(current))") }
                if endTags.contains(tag) {
                    advance()
                    return (body, tag)
                }
                body.append(try parseStatement(tag))
            case .eof:
                if !endTags.isEmpty {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("Unexpected end of template. Jinja was looking for the following tags: \(expected).")
                }
                return (body, nil)
            default:
                throw error("unexpected \(describe(token))")
            }
        }
    }

    private mutating func parseStatement(_ tag: String) throws(TemplateError) -> Node {
        let tagToken = current
        advance()
        switch tag {
        case "if": return try parseIf()
        case "for": return try parseFor()
        case "set": return try parseSet()
        case "macro": return try parseMacro()
        case "call": return try parseCallBlock()
        case "filter":
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try subparse(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(body: body, filters: filters)
        case "break":
            try expectBlockEnd()
            return .breakLoop
        case "continue":
            try expectBlockEnd()
            return .continueLoop
        default:
            throw error("Encountered unknown tag '\(tag)'.", at: tagToken)
        }
    }

    private mutating func parseIf() throws(TemplateError) -> Node {
        var branches: [Branch] = []
        var condition = try parseTuple()
        while true {
            try expectBlockEnd()
            let (body, end) = try subparse(until: ["elif", "else", "endif"])
            branches.append(Branch(condition: condition, body: body))
            switch end {
            case "elif":
                condition = try parseTuple()
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try subparse(until: ["endif"])
                try expectBlockEnd()
                return .conditional(branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .conditional(branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor() throws(TemplateError) -> Node {
        var targets = [try expectName()]
        var unpack = false
        while skipOp(",") {
            unpack = true
            if isName("in") { break }
            targets.append(try expectName())
        }
        try expectKeyword("in")
        let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive"])
        let condition = skipName("if") ? try parseExpression() : nil
        if isName("recursive") { throw error("recursive loops are not supported") }
        try expectBlockEnd()
        let (body, end) = try subparse(until: ["endfor", "else"])
        var otherwise: [Node] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try subparse(until: ["endfor"])
        }
        try expectBlockEnd()
        return .forLoop(ForLoop(targets: targets, unpack: unpack, iterable: iterable, condition: condition, body: body, otherwise: otherwise))
    }

    private mutating func parseAssignTarget() throws(TemplateError) -> AssignTarget {
        let first = try expectName()
        if skipOp(".") { return .attribute(first, try expectName()) }
        guard isOp(",") else { return .name(first) }
        var names = [first]
        while skipOp(",") {
            guard case .name = current.kind else { break }
            names.append(try expectName())
        }
        return .tuple(names)
    }

    private mutating func parseSet() throws(TemplateError) -> Node {
        let target = try parseAssignTarget()
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value)
        }
        let filters = isOp("|") ? try parseFilterChain() : []
        try expectBlockEnd()
        let (body, _) = try subparse(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, body: body, filters: filters)
    }

    private mutating func parseParameters() throws(TemplateError) -> [Macro.Parameter] {
        try expectOp("(")
        var parameters: [Macro.Parameter] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            let defaultValue = skipOp("=") ? try parseExpression() : nil
            parameters.append(Macro.Parameter(name: name, defaultValue: defaultValue))
        }
        try expectOp(")")
        return parameters
    }

    private mutating func parseMacro() throws(TemplateError) -> Node {
        let name = try expectName()
        let parameters = try parseParameters()
        try expectBlockEnd()
        let (body, _) = try subparse(until: ["endmacro"])
        if case .name = current.kind { advance() }  // `{% endmacro name %}`
        try expectBlockEnd()
        return .macro(Macro(name: name, parameters: parameters, body: body))
    }

    private mutating func parseCallBlock() throws(TemplateError) -> Node {
        let parameters = isOp("(") ? try parseParameters() : []
        let callToken = current
        let call = try parseExpression()
        guard case .call = call else { throw error("expected a call", at: callToken) }
        try expectBlockEnd()
        let (body, _) = try subparse(until: ["endcall"])
        try expectBlockEnd()
        return .callBlock(call: call, caller: Macro(name: "caller", parameters: parameters, body: body))
    }

    // MARK: Expressions

    /// A comma list makes a tuple (`{% set a = 1, 2 %}`), a single expression stays itself.
    private mutating func parseTuple(withCondition: Bool = true, extraEnd: Set<String> = [], explicitParentheses: Bool = false) throws(TemplateError) -> Expression {
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw error("Expected an expression, got \(describe(current))") }
        }
        return .tuple(items)
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(")"): return true
        case let .name(n): return extraEnd.contains(n)
        default: return false
        }
    }

    private mutating func parseExpression() throws(TemplateError) -> Expression {
        try enter()
        defer { depth -= 1 }
        var expression = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expression = .conditional(condition: condition, then: expression, otherwise: otherwise)
        }
        return expression
    }

    private mutating func parseOr() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> Expression {
        try enter()
        defer { depth -= 1 }
        if skipName("not") { return .not(try parseNot()) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(TemplateError) -> Expression {
        let left = try parseMath1()
        var operations: [(CompareOperator, Expression)] = []
        while true {
            if case let .op(op) = current.kind, let compare = CompareOperator(rawValue: op), compare != .in, compare != .notIn {
                advance()
                operations.append((compare, try parseMath1()))
            } else if skipName("in") {
                operations.append((.in, try parseMath1()))
            } else if isName("not"), isName("in", peek()) {
                advance()
                advance()
                operations.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .compare(left, operations)
    }

    private mutating func parseBinary(_ ops: [String], next: (inout Parser) throws(TemplateError) -> Expression) throws(TemplateError) -> Expression {
        var left = try next(&self)
        while case let .op(op) = current.kind, ops.contains(op), let binary = BinaryOperator(rawValue: op) {
            advance()
            left = .binary(binary, left, try next(&self))
        }
        return left
    }

    private mutating func parseMath1() throws(TemplateError) -> Expression {
        try parseBinary(["+", "-"]) { (p: inout Parser) throws(TemplateError) in try p.parseConcat() }
    }

    private mutating func parseConcat() throws(TemplateError) -> Expression {
        try parseBinary(["~"]) { (p: inout Parser) throws(TemplateError) in try p.parseMath2() }
    }

    private mutating func parseMath2() throws(TemplateError) -> Expression {
        try parseBinary(["*", "/", "//", "%"]) { (p: inout Parser) throws(TemplateError) in try p.parsePow() }
    }

    private mutating func parsePow() throws(TemplateError) -> Expression {
        try parseBinary(["**"]) { (p: inout Parser) throws(TemplateError) in try p.parseUnary() }
    }

    private mutating func parseUnary(withFilter: Bool = true) throws(TemplateError) -> Expression {
        try enter()
        defer { depth -= 1 }
        var expression: Expression
        if skipOp("-") {
            expression = .negate(try parseUnary(withFilter: false))
        } else if skipOp("+") {
            expression = .plus(try parseUnary(withFilter: false))
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        if withFilter { expression = try parseFilterExpression(expression) }
        return expression
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expression {
        let token = current
        switch token.kind {
        case let .name(name):
            advance()
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case let .string(s):
            advance()
            var text = s
            while case let .string(more) = current.kind {
                text += more
                advance()
            }
            return .literal(.string(text))
        case let .integer(i):
            advance()
            return .literal(.int(i))
        case let .float(d):
            advance()
            return .literal(.double(d))
        case .op("("):
            advance()
            let expression = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expression
        case .op("["):
            advance()
            var items: [Expression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(Expression, Expression)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw error("unexpected \(describe(token))")
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws(TemplateError) -> Expression {
        var expression = base
        while true {
            if skipOp(".") {
                switch current.kind {
                case let .name(name):
                    advance()
                    expression = .attribute(expression, name)
                case let .integer(i):
                    advance()
                    expression = .item(expression, .literal(.int(i)))
                default:
                    throw error("expected an attribute name after '.'")
                }
            } else if skipOp("[") {
                var subscripts: [Expression] = []
                while !isOp("]") {
                    if !subscripts.isEmpty { try expectOp(",") }
                    if isOp("]") { break }
                    subscripts.append(try parseSubscript(of: expression))
                }
                try expectOp("]")
                guard !subscripts.isEmpty else { throw error("expected a subscript") }
                if subscripts.count == 1, case .slice = subscripts[0] {
                    expression = subscripts[0]
                } else {
                    expression = .item(expression, subscripts.count == 1 ? subscripts[0] : .tuple(subscripts))
                }
            } else if isOp("(") {
                expression = .call(expression, try parseCallArguments())
            } else {
                return expression
            }
        }
    }

    /// One subscript: an index expression or a slice `start:stop:step` (each part optional).
    private mutating func parseSubscript(of base: Expression) throws(TemplateError) -> Expression {
        var start: Expression?
        if !isOp(":") {
            let index = try parseExpression()
            guard isOp(":") else { return index }
            start = index
        }
        advance()  // ':'
        var stop: Expression?
        var step: Expression?
        if !isOp("]"), !isOp(","), !isOp(":") { stop = try parseExpression() }
        if skipOp(":"), !isOp("]"), !isOp(",") { step = try parseExpression() }
        return .slice(base, start: start, stop: stop, step: step)
    }

    private mutating func parseCallArguments() throws(TemplateError) -> Arguments {
        try expectOp("(")
        var arguments = Arguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if case let .name(name) = current.kind, isOp("=", peek()) {
                advance()
                advance()
                arguments.keyword.append((name, try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw error("positional argument after keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return arguments
    }

    private mutating func parseFilterName() throws(TemplateError) -> String {
        var name = try expectName()
        while isOp("."), case .name = peek().kind {
            advance()
            name += "." + (try expectName())
        }
        return name
    }

    /// `| name(args) | name …` after `{% filter` or a block `set`.
    private mutating func parseFilterChain() throws(TemplateError) -> [FilterCall] {
        var filters: [FilterCall] = []
        _ = skipOp("|")
        repeat {
            let name = try parseFilterName()
            let arguments = isOp("(") ? try parseCallArguments() : Arguments()
            filters.append(FilterCall(name: name, arguments: arguments))
        } while skipOp("|")
        return filters
    }

    private mutating func parseFilterExpression(_ base: Expression) throws(TemplateError) -> Expression {
        var expression = base
        while true {
            if skipOp("|") {
                let name = try parseFilterName()
                let arguments = isOp("(") ? try parseCallArguments() : Arguments()
                expression = .filter(expression, FilterCall(name: name, arguments: arguments))
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try parseFilterName()
                var arguments = Arguments()
                if isOp("(") {
                    arguments = try parseCallArguments()
                } else if startsTestArgument() {
                    if isName("is") { throw error("You cannot chain multiple tests with is") }
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                expression = .test(expression, name: name, arguments: arguments, negated: negated)
            } else if isOp("(") {
                expression = .call(expression, try parseCallArguments())
            } else {
                return expression
            }
        }
    }

    /// jinja2 lets a test take one argument without parentheses: `x is divisibleby 3`.
    private func startsTestArgument() -> Bool {
        switch current.kind {
        case let .name(n): !["else", "or", "and"].contains(n)
        case .string, .integer, .float, .op("["), .op("{"): true
        default: false
        }
    }
}
