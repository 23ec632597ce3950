/// A grammar lowered for matching: every rule a list of alternatives, every alternative a run of
/// symbols (a terminal byte set or a call of a rule) ending in `end`. Choices nested inside a
/// sequence become rules of their own, `x*` a right-recursive rule (`R ::= x R | ""`), `x{m,n}`
/// `m` copies of `x` then a chain of `n - m` nested optionals.
///
/// Symbols are one `Int32` each: `>= 0` a terminal (index into `sets`), `end`, or a call
/// (`callBase - rule`). The matcher's stacks are positions (`pc`) into `symbols`.
struct Program: Sendable {
    static let end: Int32 = -1
    static let callBase: Int32 = -2

    var symbols: [Int32] = []
    var sets: [ByteSet] = []
    /// Per rule, the `pc` of each alternative's first symbol.
    var alternatives: [[Int32]] = []
    var ruleNames: [String] = []
    var nullable: [Bool] = []
    /// For rules of an `x{m,n}` chain whose `x` always takes a byte: how many more `x` the
    /// rule may take, and the chain's rule taking one (so rule `r` is `r - remaining + 1` plus
    /// `remaining - 1`). Two such rules with enough left behave the same over any one token.
    var optionalRemaining: [Int: Int] = [:]

    /// The most symbols a grammar may lower to (repetition counts multiply sizes).
    static let symbolLimit = 2_000_000

    init(_ grammar: Grammar) throws {
        var lowering = Lowering(grammar: grammar)
        try lowering.run()
        var setIndex: [ByteSet: Int32] = [:]
        for (rule, alts) in lowering.rules.enumerated() {
            ruleNames.append(lowering.names[rule])
            var starts: [Int32] = []
            for alt in alts {
                starts.append(Int32(symbols.count))
                for symbol in alt {
                    switch symbol {
                    case .terminal(let set):
                        if let i = setIndex[set] {
                            symbols.append(i)
                        } else {
                            setIndex[set] = Int32(sets.count)
                            symbols.append(Int32(sets.count))
                            sets.append(set)
                        }
                    case .call(let r): symbols.append(Self.callBase - Int32(r))
                    }
                }
                symbols.append(Self.end)
            }
            alternatives.append(starts)
        }
        nullable = Self.nullableRules(lowering.rules)
        try checkLeftRecursion(lowering.rules)
        for chain in lowering.optionalChains {
            let takesByte = chain.body.contains { symbol in
                switch symbol {
                case .terminal: true
                case .call(let r): !nullable[r]
                }
            }
            guard takesByte else { continue }
            for j in 1...chain.count { optionalRemaining[chain.first + j - 1] = j }
        }
    }

    static func rule(ofCall code: Int32) -> Int { Int(callBase - code) }

    private static func nullableRules(_ rules: [[[Lowering.Symbol]]]) -> [Bool] {
        var nullable = [Bool](repeating: false, count: rules.count)
        var changed = true
        while changed {
            changed = false
            for (r, alts) in rules.enumerated() where !nullable[r] {
                let empty = alts.contains { alt in
                    alt.allSatisfy { if case .call(let c) = $0 { nullable[c] } else { false } }
                }
                if empty { nullable[r] = true; changed = true }
            }
        }
        return nullable
    }

    /// Refuses a rule that can call itself, before consuming a byte, from a position other than
    /// its alternative's last (a left recursion would grow the matcher's stack forever). A call in
    /// the last position reuses the caller's continuation, so a cycle of such calls (`x*` with a
    /// nullable `x`) cannot grow it and is allowed.
    private func checkLeftRecursion(_ rules: [[[Lowering.Symbol]]]) throws {
        var edges = [[Int]](repeating: [], count: rules.count)
        var growing: [(Int, Int)] = []
        for (a, alts) in rules.enumerated() {
            for alt in alts {
                for (j, symbol) in alt.enumerated() {
                    guard case .call(let b) = symbol else { break }
                    edges[a].append(b)
                    if j != alt.count - 1 { growing.append((a, b)) }
                    if !nullable[b] { break }
                }
            }
        }
        guard !growing.isEmpty else { return }
        let component = Self.stronglyConnectedComponents(edges)
        if let (a, _) = growing.first(where: { component[$0.0] == component[$0.1] }) {
            throw GrammarError.leftRecursion(ruleNames[a])
        }
    }

    /// Tarjan's algorithm, iterative (grammars from schemas can nest thousands of rules deep).
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [Int] {
        let n = edges.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n), component = [Int](repeating: -1, count: n)
        var stack: [Int] = [], next = 0, components = 0
        for start in 0..<n where index[start] < 0 {
            var frames: [(node: Int, edge: Int)] = [(start, 0)]
            index[start] = next; low[start] = next; next += 1
            stack.append(start); onStack[start] = true
            while let (v, e) = frames.last {
                if e < edges[v].count {
                    frames[frames.count - 1].edge += 1
                    let w = edges[v][e]
                    if index[w] < 0 {
                        index[w] = next; low[w] = next; next += 1
                        stack.append(w); onStack[w] = true
                        frames.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last { low[parent.node] = min(low[parent.node], low[v]) }
                if low[v] == index[v] {
                    while let w = stack.popLast() {
                        onStack[w] = false
                        component[w] = components
                        if w == v { break }
                    }
                    components += 1
                }
            }
        }
        return component
    }
}

/// `Grammar.Expr` trees → alternatives of symbol runs (see `Program`).
private struct Lowering {
    enum Symbol: Equatable { case terminal(ByteSet), call(Int) }

    let grammar: Grammar
    var rules: [[[Symbol]]] = []
    var names: [String] = []
    var size = 0
    /// The chains of nested optionals `x{m,n}` lowers to: rules `first ..< first + count`, the
    /// rule `first + j - 1` taking at most `j` more `body`s.
    var optionalChains: [(first: Int, count: Int, body: [Symbol])] = []

    init(grammar: Grammar) {
        self.grammar = grammar
    }

    mutating func run() throws {
        rules = [[[Symbol]]](repeating: [], count: grammar.rules.count)
        names = grammar.rules.map(\.name)
        for (i, rule) in grammar.rules.enumerated() {
            rules[i] = try alternatives(rule.body, in: rule.name)
        }
    }

    private mutating func alternatives(_ e: Grammar.Expr, in name: String) throws -> [[Symbol]] {
        if case .choice(let items) = e { return try items.map { try run($0, in: name) } }
        return [try run(e, in: name)]
    }

    private mutating func newRule(_ name: String, _ alternatives: [[Symbol]]) throws -> Int {
        size += alternatives.reduce(0) { $0 + $1.count + 1 }
        if size > Program.symbolLimit { throw GrammarError.tooLarge("more than \(Program.symbolLimit) symbols after expanding repetitions") }
        rules.append(alternatives)
        names.append("\(name)_\(rules.count)")
        return rules.count - 1
    }

    private mutating func run(_ e: Grammar.Expr, in name: String) throws -> [Symbol] {
        switch e {
        case .empty: return []
        case .byteSet(let s): return [.terminal(s)]
        case .bytes(let b): return b.map { .terminal(ByteSet($0)) }
        case .sequence(let items):
            var out: [Symbol] = []
            for item in items { out += try run(item, in: name) }
            return out
        case .choice(let items):
            if items.count == 1 { return try run(items[0], in: name) }
            return [.call(try newRule(name, items.map { try run($0, in: name) }))]
        case .rule(let i):
            guard grammar.rules.indices.contains(i) else { throw GrammarError.undefinedRule("#\(i)") }
            return [.call(i)]
        case .repeat(let inner, let lower, let upper):
            if let upper, upper < lower { throw GrammarError.tooLarge("repetition {\(lower),\(upper)} has its maximum below its minimum") }
            let body = try run(inner, in: name)
            let copies = (upper ?? lower) + (upper == nil ? 1 : 0)
            let (symbols, overflow) = copies.multipliedReportingOverflow(by: max(body.count, 1))
            if overflow || symbols > Program.symbolLimit {
                throw GrammarError.tooLarge("repetition {\(lower),\(upper.map(String.init) ?? "")} of \(body.count) symbols")
            }
            var out: [Symbol] = []
            for _ in 0..<lower { out += body }
            size += out.count
            if body.isEmpty { return out }
            if let upper {
                guard upper > lower else { return out }
                var tail = try newRule(name, [body, []])
                let first = tail
                for _ in 0..<(upper - lower - 1) { tail = try newRule(name, [body + [.call(tail)], []]) }
                optionalChains.append((first: first, count: upper - lower, body: body))
                out.append(.call(tail))
            } else {
                let star = try newRule(name, [])
                rules[star] = [body + [.call(star)], []]
                size += body.count + 2
                out.append(.call(star))
            }
            return out
        }
    }
}
