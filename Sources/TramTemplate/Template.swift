public import Foundation

/// A parsed Jinja template that renders like Python's jinja2 in Hugging Face's chat-template
/// environment (`trim_blocks`, `lstrip_blocks`, `loopcontrols`, globals `raise_exception` and
/// `strftime_now`, HF's `tojson`). Parse once, render many times, from any thread.
///
///     let template = try Template("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")
///     let text = try template.render(["messages": [["role": "user", "content": "Hi"]]])
public struct Template: Sendable {
    let nodes: [Node]

    /// Parses `source`; a syntax error throws `TemplateError.syntax` with line and column.
    public init(_ source: String) throws(TemplateError) {
        nodes = try Parser.parse(try Lexer.tokenize(source))
    }

    /// Renders with `context` as the template's variables. `now` and `timeZone` fix what
    /// `strftime_now` reports (tests pass a constant date).
    public func render(_ context: [String: Value], now: Date = Date(), timeZone: TimeZone = .current) throws(TemplateError) -> String {
        let interpreter = Interpreter(context: context, now: now, timeZone: timeZone)
        _ = try interpreter.execute(nodes, in: interpreter.root)
        return interpreter.output
    }
}
