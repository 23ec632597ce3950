/// Turns template source into tokens the way jinja2's lexer does for Hugging Face's environment
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`).
///
/// Whitespace rules, applied to the text around each tag:
/// - `{%-` / `{{-` / `{#-` strip all whitespace (newlines too) before the tag; `-%}` / `-}}` /
///   `-#}` strip all whitespace after it.
/// - lstrip_blocks: spaces and tabs between a line start and `{%` or `{#` are dropped, unless
///   the tag opens with `{%+`. Variables `{{` never lstrip.
/// - trim_blocks: one newline right after `%}` or `#}` is dropped, unless it is `+%}`.
/// - Line endings become `\n` and one trailing newline of the source is dropped.
struct Lexer {
    private let s: [Unicode.Scalar]
    private var pos = 0
    private var tokens: [Token] = []
    /// Offsets of each line's first scalar, to report line and column.
    private let lineStarts: [Int]

    static func tokenize(_ source: String) throws(TemplateError) -> [Token] {
        var lexer = Lexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(source: String) {
        var text = source.replacingCRLF()
        if text.unicodeScalars.last == "\n" { text.unicodeScalars.removeLast() }
        s = Array(text.unicodeScalars)
        var starts = [0]
        for (i, c) in s.enumerated() where c == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    private func location(_ offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo] + 1)
    }

    private func error(_ message: String, at offset: Int) -> TemplateError {
        let (line, column) = location(offset)
        return .syntax(message, line: line, column: column)
    }

    private mutating func emit(_ kind: Token.Kind, at offset: Int) {
        let (line, column) = location(offset)
        tokens.append(Token(kind: kind, line: line, column: column))
    }

    private func at(_ i: Int) -> Unicode.Scalar? { i < s.count ? s[i] : nil }

    private func matches(_ text: String, at i: Int) -> Bool {
        var j = i
        for c in text.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" || c.properties.isWhitespace
    }

    private mutating func run() throws(TemplateError) {
        // jinja2's `line_starting`: whether the last consumed token ended with a newline, so a
        // tag at the very start of a line (no text before it) is still lstripped.
        var lineStarting = true
        while pos < s.count {
            var i = pos
            var tagStart: Int?
            while i + 1 < s.count {
                if s[i] == "{", s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" { tagStart = i; break }
                i += 1
            }
            guard let start = tagStart else {
                emit(.text(String(String.UnicodeScalarView(s[pos...]))), at: pos)
                pos = s.count
                break
            }
            var text = Array(s[pos..<start])
            let kind = s[start + 1]
            let sign = at(start + 2).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
            if sign == "-" {
                while let last = text.last, Lexer.isSpace(last) { text.removeLast() }
            } else if sign != "+", kind != "{" {
                let lPos = (text.lastIndex(of: "\n") ?? -1) + 1
                if lPos > 0 || lineStarting, lPos < text.count, text[lPos...].allSatisfy(Lexer.isSpace) {
                    text.removeSubrange(lPos...)
                }
            }
            if !text.isEmpty { emit(.text(String(String.UnicodeScalarView(text))), at: pos) }
            pos = start + 2 + (sign == nil ? 0 : 1)
            switch kind {
            case "#": lineStarting = try skipComment(openedAt: start)
            case "%":
                emit(.blockBegin, at: start)
                lineStarting = try lexTag(closing: "%", openedAt: start)
            default:
                emit(.variableBegin, at: start)
                lineStarting = try lexTag(closing: "}", openedAt: start)
            }
        }
        emit(.eof, at: s.count)
    }

    /// Consumes whitespace after a `-` closer; returns whether the consumed text ended a line.
    private mutating func consumeTrailing(after end: Int, strip: Bool, trimNewline: Bool) -> Bool {
        pos = end
        var lastWasNewline = false
        if strip {
            while pos < s.count, Lexer.isSpace(s[pos]) {
                lastWasNewline = s[pos] == "\n"
                pos += 1
            }
        } else if trimNewline, at(pos) == "\n" {
            pos += 1
            lastWasNewline = true
        }
        return lastWasNewline
    }

    private mutating func skipComment(openedAt start: Int) throws(TemplateError) -> Bool {
        var j = pos
        while j + 1 < s.count, !(s[j] == "#" && s[j + 1] == "}") { j += 1 }
        guard j + 1 < s.count else { throw error("Missing end of comment tag", at: start) }
        let sign = j > pos ? s[j - 1] : nil
        return consumeTrailing(after: j + 2, strip: sign == "-", trimNewline: sign != "+")
    }

    /// Lexes the inside of `{% … %}` or `{{ … }}`; returns whether the closer ended a line.
    private mutating func lexTag(closing: Unicode.Scalar, openedAt start: Int) throws(TemplateError) -> Bool {
        let isBlock = closing == "%"
        // Open brackets: a closer inside `{{ {'a': {'b': 1}} }}` is not the tag's end.
        var balance: [Unicode.Scalar] = []
        while true {
            while pos < s.count, Lexer.isSpace(s[pos]) { pos += 1 }
            guard pos < s.count else {
                throw error(isBlock ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", at: start)
            }
            if balance.isEmpty {
                let closer = isBlock ? "%}" : "}}"
                if matches("-" + closer, at: pos) {
                    emit(isBlock ? .blockEnd : .variableEnd, at: pos)
                    return consumeTrailing(after: pos + 3, strip: true, trimNewline: false)
                }
                if isBlock, matches("+%}", at: pos) {
                    emit(.blockEnd, at: pos)
                    pos += 3
                    return false
                }
                if matches(closer, at: pos) {
                    emit(isBlock ? .blockEnd : .variableEnd, at: pos)
                    return consumeTrailing(after: pos + 2, strip: false, trimNewline: isBlock)
                }
            }
            let c = s[pos]
            let tokenStart = pos
            if c == "_" || c.properties.isAlphabetic && c.isASCII {
                var j = pos
                while j < s.count, s[j] == "_" || (s[j].isASCII && (s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]))) { j += 1 }
                emit(.name(String(String.UnicodeScalarView(s[pos..<j]))), at: tokenStart)
                pos = j
            } else if ("0"..."9").contains(c) {
                try lexNumber()
            } else if c == "'" || c == "\"" {
                try lexString(quote: c)
            } else {
                let twoChar = ["//", "**", "==", "!=", "<=", ">="]
                if let op = twoChar.first(where: { matches($0, at: pos) }) {
                    emit(.op(op), at: tokenStart)
                    pos += 2
                    continue
                }
                guard "+-/*%~[](){}<>=.:|,;".unicodeScalars.contains(c) else {
                    throw error("unexpected char '\(Character(c))'", at: pos)
                }
                switch c {
                case "(", "[", "{": balance.append(c)
                case ")", "]", "}":
                    let expected: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
                    guard balance.last == expected else { throw error("unexpected '\(Character(c))'", at: pos) }
                    balance.removeLast()
                default: break
                }
                emit(.op(String(Character(c))), at: tokenStart)
                pos += 1
            }
        }
    }

    private mutating func lexNumber() throws(TemplateError) {
        let start = pos
        func digits(_ lexer: inout Lexer) {
            while lexer.pos < lexer.s.count, ("0"..."9").contains(lexer.s[lexer.pos]) || (lexer.s[lexer.pos] == "_" && lexer.pos + 1 < lexer.s.count && ("0"..."9").contains(lexer.s[lexer.pos + 1])) {
                lexer.pos += 1
            }
        }
        digits(&self)
        var isFloat = false
        if at(pos) == ".", let next = at(pos + 1), ("0"..."9").contains(next) {
            isFloat = true
            pos += 1
            digits(&self)
        }
        if let e = at(pos), e == "e" || e == "E" {
            var j = pos + 1
            if let sgn = at(j), sgn == "+" || sgn == "-" { j += 1 }
            if let d = at(j), ("0"..."9").contains(d) {
                isFloat = true
                pos = j
                digits(&self)
            }
        }
        let text = String(String.UnicodeScalarView(s[start..<pos])).filter { $0 != "_" }
        if isFloat {
            guard let d = Double(text) else { throw error("bad number", at: start) }
            emit(.float(d), at: start)
        } else {
            guard let i = Int(text) else { throw error("integer too large", at: start) }
            emit(.integer(i), at: start)
        }
    }

    /// A quoted string, decoded like Python's `unicode-escape` as jinja2 does: `\n`, `\t`,
    /// `\\`, `\'`, `\xhh`, `\uhhhh`, octal; an unknown escape such as `\d` stays as written.
    private mutating func lexString(quote: Unicode.Scalar) throws(TemplateError) {
        let start = pos
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard pos < s.count else { throw error("unexpected end of string", at: start) }
            let c = s[pos]
            pos += 1
            if c == quote { break }
            if c != "\\" { out.append(c); continue }
            guard pos < s.count else { throw error("unexpected end of string", at: start) }
            let e = s[pos]
            pos += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                guard pos + width <= s.count,
                      let v = UInt32(String(String.UnicodeScalarView(s[pos..<pos + width])), radix: 16),
                      let scalar = Unicode.Scalar(v)
                else { throw error("bad escape in string", at: pos - 2) }
                out.append(scalar)
                pos += width
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3, let d = at(pos), ("0"..."7").contains(d) {
                    v = v * 8 + d.value - 48
                    pos += 1
                    n += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            default:
                out.append("\\")
                out.append(e)
            }
        }
        emit(.string(String(out)), at: start)
    }
}

extension String {
    /// jinja2 normalises `\r\n` and `\r` to `\n` before lexing.
    func replacingCRLF() -> String {
        guard unicodeScalars.contains("\r") else { return self }
        var out = String.UnicodeScalarView()
        var previousCR = false
        for c in unicodeScalars {
            if c == "\r" {
                out.append("\n")
                previousCR = true
                continue
            }
            if !(c == "\n" && previousCR) { out.append(c) }
            previousCR = false
        }
        return String(out)
    }
}
