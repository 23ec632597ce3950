internal import Foundation

/// Walks the AST for one render. Holds the output buffer, the frame chain and the date that
/// `strftime_now` reports. Not shared: `Template.render` makes a fresh one each call.
final class Interpreter {
    /// What a statement asks of the loop around it.
    enum Flow { case normal, breakLoop, continueLoop }

    let root: Frame
    var output = ""
    let now: Date
    let timeZone: TimeZone
    /// Bodies of the `{% call %}` blocks being run, innermost last; `caller()` renders the top.
    var callers: [(macro: Macro, frame: Frame)] = []
    /// Guards against runaway recursion in macros (a template is outside data).
    var depth = 0
    static let maxDepth = 100

    static let globals: [String: Value] = [
        "range": .callable(Callable(.builtin("range"))),
        "namespace": .callable(Callable(.builtin("namespace"))),
        "dict": .callable(Callable(.builtin("dict"))),
        "raise_exception": .callable(Callable(.builtin("raise_exception"))),
        "strftime_now": .callable(Callable(.builtin("strftime_now"))),
    ]

    init(context: [String: Value], now: Date, timeZone: TimeZone) {
        let globals = Frame(parent: nil, variables: Interpreter.globals)
        root = Frame(parent: globals, variables: context)
        self.now = now
        self.timeZone = timeZone
    }

    // MARK: Statements

    func execute(_ nodes: [Node], in frame: Frame) throws(TemplateError) -> Flow {
        for node in nodes {
            let flow = try execute(node, in: frame)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node, in frame: Frame) throws(TemplateError) -> Flow {
        switch node {
        case let .text(text):
            output += text
        case let .output(expression):
            output += try evaluate(expression, in: frame).pythonString
        case let .conditional(branches, otherwise):
            for branch in branches where try evaluate(branch.condition, in: frame).isTruthy {
                return try execute(branch.body, in: frame)
            }
            return try execute(otherwise, in: frame)
        case let .forLoop(loop):
            try runLoop(loop, in: frame)
        case let .set(target, expression):
            try assign(try evaluate(expression, in: frame), to: target, in: frame)
        case let .setBlock(target, body, filters):
            var value = Value.string(try capture { () throws(TemplateError) in _ = try execute(body, in: frame) })
            for filter in filters { value = try applyFilter(filter, to: value, in: frame) }
            try assign(value, to: target, in: frame)
        case let .macro(macro):
            frame.variables[macro.name] = .callable(Callable(.macro(macro)))
        case let .callBlock(call, caller):
            callers.append((caller, frame))
            defer { callers.removeLast() }
            output += try evaluate(call, in: frame).pythonString
        case let .filterBlock(body, filters):
            var value = Value.string(try capture { () throws(TemplateError) in _ = try execute(body, in: frame) })
            for filter in filters { value = try applyFilter(filter, to: value, in: frame) }
            output += value.pythonString
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Runs `body` with a fresh output buffer and returns what it wrote.
    func capture(_ body: () throws(TemplateError) -> Void) throws(TemplateError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    private func assign(_ value: Value, to target: AssignTarget, in frame: Frame) throws(TemplateError) {
        switch target {
        case let .name(name):
            frame.variables[name] = value
        case let .tuple(names):
            let items = try unpack(value, count: names.count)
            for (name, item) in zip(names, items) { frame.variables[name] = item }
        case let .attribute(name, attribute):
            guard let owner = frame.owner(of: name), case var .object(object) = owner.variables[name] else {
                throw .render("cannot assign attribute on non-namespace object")
            }
            object[attribute] = value
            owner.variables[name] = .object(object)
        }
    }

    private func unpack(_ value: Value, count: Int) throws(TemplateError) -> [Value] {
        let items = try iterate(value)
        guard items.count == count else {
            throw .render(items.count > count ? "too many values to unpack (expected \(count))" : "not enough values to unpack (expected \(count), got \(items.count))")
        }
        return items
    }

    /// Python iteration: lists by item, dicts by key, strings by character.
    func iterate(_ value: Value) throws(TemplateError) -> [Value] {
        switch value {
        case .undefined: return []
        case let .array(items): return items
        case let .object(object): return object.keys.map(Value.string)
        case let .string(s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw .render("'\(value.typeName)' object is not iterable")
        }
    }

    private func runLoop(_ loop: ForLoop, in frame: Frame) throws(TemplateError) {
        let loopFrame = Frame(parent: frame)
        func bind(_ item: Value) throws(TemplateError) {
            if loop.unpack {
                let parts = try unpack(item, count: loop.targets.count)
                for (name, part) in zip(loop.targets, parts) { loopFrame.variables[name] = part }
            } else {
                loopFrame.variables[loop.targets[0]] = item
            }
        }
        var items = try iterate(try evaluate(loop.iterable, in: frame))
        if let condition = loop.condition {
            var kept: [Value] = []
            for item in items {
                try bind(item)
                if try evaluate(condition, in: loopFrame).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise, in: frame)
            return
        }
        let length = items.count
        for (i, item) in items.enumerated() {
            try bind(item)
            var info: OrderedObject = [
                "index": .int(i + 1), "index0": .int(i), "revindex": .int(length - i), "revindex0": .int(length - i - 1),
                "first": .bool(i == 0), "last": .bool(i == length - 1), "length": .int(length), "depth": 1, "depth0": 0,
            ]
            if i > 0 { info["previtem"] = items[i - 1] }
            if i < length - 1 { info["nextitem"] = items[i + 1] }
            loopFrame.variables["loop"] = .object(info)
            if try execute(loop.body, in: loopFrame) == .breakLoop { break }
        }
    }

    // MARK: Expressions

    func evaluate(_ expression: Expression, in frame: Frame) throws(TemplateError) -> Value {
        switch expression {
        case let .literal(value):
            return value
        case let .name(name):
            return frame.lookup(name) ?? .undefined
        case let .list(items), let .tuple(items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item, in: frame)) }
            return .array(values)
        case let .dict(pairs):
            var object = OrderedObject()
            for (key, value) in pairs {
                object[try evaluate(key, in: frame).pythonString] = try evaluate(value, in: frame)
            }
            return .object(object)
        case let .attribute(base, name):
            return attribute(name, of: try evaluate(base, in: frame))
        case let .item(base, index):
            return item(try evaluate(index, in: frame), of: try evaluate(base, in: frame))
        case let .slice(base, start, stop, step):
            let value = try evaluate(base, in: frame)
            func bound(_ e: Expression?) throws(TemplateError) -> Int? {
                guard let e else { return nil }
                switch try evaluate(e, in: frame) {
                case .none: return nil
                case let .int(i): return i
                case let .bool(b): return b ? 1 : 0
                default: throw .render("slice indices must be integers or None")
                }
            }
            return try slice(value, start: bound(start), stop: bound(stop), step: bound(step))
        case let .call(callee, arguments):
            return try call(callee, arguments, in: frame)
        case let .filter(base, filter):
            return try applyFilter(filter, to: try evaluate(base, in: frame), in: frame)
        case let .test(base, name, arguments, negated):
            let result = try applyTest(name, to: try evaluate(base, in: frame), arguments: try evaluate(arguments, in: frame))
            return .bool(result != negated)
        case let .not(operand):
            return .bool(!(try evaluate(operand, in: frame).isTruthy))
        case let .negate(operand):
            switch try evaluate(operand, in: frame).numeric {
            case let .int(i)?:
                guard i != Int.min else { throw .render("integer overflow") }
                return .int(-i)
            case let .double(d)?: return .double(-d)
            case nil: throw .render("bad operand type for unary -")
            }
        case let .plus(operand):
            switch try evaluate(operand, in: frame).numeric {
            case let .int(i)?: return .int(i)
            case let .double(d)?: return .double(d)
            case nil: throw .render("bad operand type for unary +")
            }
        case let .and(left, right):
            let l = try evaluate(left, in: frame)
            return l.isTruthy ? try evaluate(right, in: frame) : l
        case let .or(left, right):
            let l = try evaluate(left, in: frame)
            return l.isTruthy ? l : try evaluate(right, in: frame)
        case let .binary(op, left, right):
            return try Operators.binary(op, try evaluate(left, in: frame), try evaluate(right, in: frame))
        case let .compare(first, operations):
            var left = try evaluate(first, in: frame)
            for (op, rightExpression) in operations {
                let right = try evaluate(rightExpression, in: frame)
                guard try Operators.compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .conditional(condition, then, otherwise):
            if try evaluate(condition, in: frame).isTruthy { return try evaluate(then, in: frame) }
            guard let otherwise else { return .undefined }
            return try evaluate(otherwise, in: frame)
        }
    }

    func evaluate(_ arguments: Arguments, in frame: Frame) throws(TemplateError) -> CallArguments {
        var result = CallArguments()
        for e in arguments.positional { result.positional.append(try evaluate(e, in: frame)) }
        for (name, e) in arguments.keyword { result.keyword.append((name, try evaluate(e, in: frame))) }
        return result
    }

    /// `a.b`: a key of an object (missing is undefined). Lenient where jinja2 is strict: an
    /// attribute of undefined is undefined too.
    func attribute(_ name: String, of value: Value) -> Value {
        switch value {
        case let .object(object): object[name] ?? .undefined
        default: .undefined
        }
    }

    /// `a[b]`: list index (negative from the end), object key, string character.
    func item(_ index: Value, of value: Value) -> Value {
        switch (value, index) {
        case let (.object(object), .string(key)): return object[key] ?? .undefined
        case let (.object(object), key): return object[key.pythonString] ?? .undefined
        case let (.array(items), _):
            guard case let .int(i)? = index.numeric else { return .undefined }
            let position = i < 0 ? items.count + i : i
            return items.indices.contains(position) ? items[position] : .undefined
        case let (.string(s), _):
            guard case let .int(i)? = index.numeric else { return .undefined }
            let scalars = Array(s.unicodeScalars)
            let position = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(position) ? .string(String(scalars[position])) : .undefined
        default: return .undefined
        }
    }

    /// Python slicing `a[start:stop:step]` on lists and strings.
    func slice(_ value: Value, start: Int?, stop: Int?, step: Int?) throws(TemplateError) -> Value {
        let step = step ?? 1
        guard step != 0 else { throw .render("slice step cannot be zero") }
        func indices(count: Int) -> [Int] {
            func clamp(_ v: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
                guard var v else { return defaultValue }
                if v < 0 { v += count }
                return min(max(v, low), high)
            }
            if step > 0 {
                let lo = clamp(start, 0, low: 0, high: count)
                let hi = clamp(stop, count, low: 0, high: count)
                return lo < hi ? Array(stride(from: lo, to: hi, by: step)) : []
            }
            let hi = clamp(start, count - 1, low: -1, high: count - 1)
            let lo = clamp(stop, -1, low: -1, high: count - 1)
            return hi > lo ? Array(stride(from: hi, to: lo, by: step)) : []
        }
        switch value {
        case let .array(items):
            return .array(indices(count: items.count).map { items[$0] })
        case let .string(s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in indices(count: scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined:
            return .undefined
        default:
            throw .render("'\(value.typeName)' object is not subscriptable")
        }
    }

    // MARK: Calls

    private func call(_ callee: Expression, _ arguments: Arguments, in frame: Frame) throws(TemplateError) -> Value {
        if case let .attribute(baseExpression, name) = callee {
            let base = try evaluate(baseExpression, in: frame)
            if case let .object(object) = base, let member = object[name] {
                return try callValue(member, try evaluate(arguments, in: frame))
            }
            let args = try evaluate(arguments, in: frame)
            if name == "append", case var .array(items) = base {
                items.append(args.positional.first ?? .none)
                try writeBack(.array(items), to: baseExpression, in: frame)
                return .none
            }
            return try callMethod(name, on: base, args)
        }
        return try callValue(try evaluate(callee, in: frame), try evaluate(arguments, in: frame))
    }

    /// Stores a mutated list back where it came from (`x.append(…)`, `ns.items.append(…)`).
    private func writeBack(_ value: Value, to expression: Expression, in frame: Frame) throws(TemplateError) {
        switch expression {
        case let .name(name):
            (frame.owner(of: name) ?? frame).variables[name] = value
        case let .attribute(.name(name), attribute):
            guard let owner = frame.owner(of: name), case var .object(object) = owner.variables[name] else { return }
            object[attribute] = value
            owner.variables[name] = .object(object)
        default:
            break  // a temporary: the mutation is not visible, as with a copied list
        }
    }

    func callValue(_ value: Value, _ args: CallArguments) throws(TemplateError) -> Value {
        guard case let .callable(callable) = value else {
            if value.isUndefined { throw .render("'undefined' is not callable") }
            throw .render("'\(value.typeName)' object is not callable")
        }
        switch callable.kind {
        case let .macro(macro):
            return try callMacro(macro, args, parent: root)
        case let .builtin(name):
            return try callBuiltin(name, args)
        }
    }

    func callMacro(_ macro: Macro, _ args: CallArguments, parent: Frame) throws(TemplateError) -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth < Interpreter.maxDepth else { throw .render("maximum recursion depth exceeded") }
        let frame = Frame(parent: parent)
        guard args.positional.count <= macro.parameters.count else {
            throw .render("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)")
        }
        for (name, _) in args.keyword where !macro.parameters.contains(where: { $0.name == name }) {
            throw .render("macro '\(macro.name)' takes no keyword argument '\(name)'")
        }
        for (i, parameter) in macro.parameters.enumerated() {
            if let value = args.value(i, parameter.name) {
                frame.variables[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                frame.variables[parameter.name] = try evaluate(defaultValue, in: frame)
            } else {
                frame.variables[parameter.name] = .undefined
            }
        }
        if !callers.isEmpty { frame.variables["caller"] = .callable(Callable(.builtin("caller"))) }
        let text = try capture { () throws(TemplateError) in _ = try execute(macro.body, in: frame) }
        return .string(text)
    }

    private func callBuiltin(_ name: String, _ args: CallArguments) throws(TemplateError) -> Value {
        switch name {
        case "range":
            let ints = try args.positional.map { (v: Value) throws(TemplateError) -> Int in
                guard case let .int(i)? = v.numeric else { throw .render("'\(v.typeName)' object cannot be interpreted as an integer") }
                return i
            }
            let (start, stop, step): (Int, Int, Int) = switch ints.count {
            case 1: (0, ints[0], 1)
            case 2: (ints[0], ints[1], 1)
            case 3: (ints[0], ints[1], ints[2])
            default: throw .render("range expected 1 to 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw .render("range() arg 3 must not be zero") }
            let values = Array(stride(from: start, to: stop, by: step).prefix(100_001))
            guard values.count <= 100_000 else { throw .render("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).") }
            return .array(values.map(Value.int))
        case "namespace", "dict":
            var object = OrderedObject()
            for value in args.positional {
                if case let .object(initial) = value { for (k, v) in initial.pairs { object[k] = v } }
            }
            for (k, v) in args.keyword { object[k] = v }
            return .object(object)
        case "raise_exception":
            throw .raised(args.value(0, "message")?.pythonString ?? "")
        case "strftime_now":
            guard case let .string(format)? = args.value(0, "format") else { throw .render("strftime_now() needs a format string") }
            return .string(Strftime.format(format, date: now, timeZone: timeZone))
        case "caller":
            guard let caller = callers.last else { throw .render("caller() outside a call block") }
            callers.removeLast()
            defer { callers.append(caller) }
            return try callMacro(caller.macro, args, parent: caller.frame)
        default:
            throw .render("unknown function '\(name)'")
        }
    }
}
