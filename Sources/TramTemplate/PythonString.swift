/// Python `str` methods that templates call, with Python's exact behaviour (whitespace set,
/// split rules, `title()` casing), since `message.content.strip()` must match byte for byte.
enum PythonString {
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func strip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isSpace(c) }
        var scalars = Substring(s).unicodeScalars[...]
        if leading { while let f = scalars.first, strippable(f) { scalars.removeFirst() } }
        if trailing { while let l = scalars.last, strippable(l) { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    /// `str.split(sep=None, maxsplit=-1)`.
    static func split(_ s: String, separator: String?, maxSplit: Int) -> [String] {
        let scalars = Array(s.unicodeScalars)
        var parts: [String] = []
        guard let separator else {
            var i = 0
            var splits = 0
            while i < scalars.count {
                while i < scalars.count, isSpace(scalars[i]) { i += 1 }
                guard i < scalars.count else { break }
                if maxSplit >= 0, splits == maxSplit {
                    var rest = scalars[i...]
                    while let l = rest.last, isSpace(l) { rest.removeLast() }
                    parts.append(String(String.UnicodeScalarView(rest)))
                    break
                }
                let start = i
                while i < scalars.count, !isSpace(scalars[i]) { i += 1 }
                parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
                splits += 1
            }
            return parts
        }
        let sep = Array(separator.unicodeScalars)
        var start = 0, i = 0, splits = 0
        while i + sep.count <= scalars.count, maxSplit < 0 || splits < maxSplit {
            if Array(scalars[i..<i + sep.count]) == sep {
                parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
                i += sep.count
                start = i
                splits += 1
            } else {
                i += 1
            }
        }
        parts.append(String(String.UnicodeScalarView(scalars[start...])))
        return parts
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            var out = ""
            var n = 0
            for c in s.unicodeScalars {
                if count < 0 || n < count { out += new; n += 1 }
                out.unicodeScalars.append(c)
            }
            if count < 0 || n < count { out += new }
            return out
        }
        let parts = split(s, separator: old, maxSplit: count)
        return parts.joined(separator: new)
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// Python `str.title()`: a letter after a non-letter is upper-cased, others lower-cased.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            out += previousCased ? String(c).lowercased() : String(c).uppercased()
            previousCased = cased
        }
        return out
    }

    /// jinja2's `title` filter: words start after `-`, whitespace, `(`, `{`, `[` or `<`.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s.unicodeScalars {
            let boundary = c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || isSpace(c)
            if boundary {
                out.unicodeScalars.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? String(c).uppercased() : String(c).lowercased()
                atWordStart = false
            }
        }
        return out
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `str.splitlines()` for `\n`, `\r\n` and `\r`.
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var iterator = s.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let c = pending {
            pending = iterator.next()
            if c == "\n" || c == "\r" {
                if c == "\r", pending == "\n" { pending = iterator.next() }
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// jinja2's `indent` filter: indents every line but the first (and blank lines only if
    /// `blank`), the first too if `first`.
    static func indent(_ s: String, _ indentation: String, first: Bool, blank: Bool) -> String {
        let lines = splitLines(s + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    /// `str.format(*args, **kwargs)` for `{}`, `{0}`, `{name}` and `{{`/`}}`; format specs
    /// after `:` are not supported and throw.
    static func format(_ s: String, _ args: CallArguments) throws(TemplateError) -> String {
        var out = ""
        var automatic = 0
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "{", i + 1 < scalars.count, scalars[i + 1] == "{" { out += "{"; i += 2; continue }
            if c == "}", i + 1 < scalars.count, scalars[i + 1] == "}" { out += "}"; i += 2; continue }
            guard c == "{" else { out.unicodeScalars.append(c); i += 1; continue }
            guard let close = scalars[i...].firstIndex(of: "}") else { throw .render("Single '{' encountered in format string") }
            let field = String(String.UnicodeScalarView(scalars[(i + 1)..<close]))
            if field.contains(":") || field.contains("!") { throw .render("format specs are not supported: {\(field)}") }
            let value: Value?
            if field.isEmpty {
                value = automatic < args.positional.count ? args.positional[automatic] : nil
                automatic += 1
            } else if let index = Int(field) {
                value = index < args.positional.count ? args.positional[index] : nil
            } else {
                value = args.keyword(field)
            }
            guard let value else { throw .render("Replacement index \(field) out of range for positional args tuple") }
            out += value.pythonString
            i = close + 1
        }
        return out
    }
}
