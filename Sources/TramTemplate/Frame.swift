/// One scope of variables. A `for` loop body gets a child frame, so `{% set %}` inside a loop
/// does not leak out (jinja2's rule, and why templates use `namespace()`); `if` bodies share
/// their parent's frame. Macro calls get a child of the template's root frame.
final class Frame {
    var variables: [String: Value] = [:]
    let parent: Frame?

    init(parent: Frame?, variables: [String: Value] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> Value? {
        var frame: Frame? = self
        while let f = frame {
            if let v = f.variables[name] { return v }
            frame = f.parent
        }
        return nil
    }

    /// The innermost frame that defines `name`, where `set ns.x` and `list.append` write back.
    func owner(of name: String) -> Frame? {
        var frame: Frame? = self
        while let f = frame {
            if f.variables[name] != nil { return f }
            frame = f.parent
        }
        return nil
    }
}

/// Call arguments after evaluation.
struct CallArguments {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    /// The argument at `index`, or passed by `name`.
    func value(_ index: Int, _ name: String) -> Value? {
        if index < positional.count { return positional[index] }
        return keyword.first { $0.0 == name }?.1
    }

    func keyword(_ name: String) -> Value? {
        keyword.first { $0.0 == name }?.1
    }
}
