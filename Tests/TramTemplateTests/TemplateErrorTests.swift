import Testing
import TramTemplate

@Test func templateErrorDescribesItself() {
    #expect(TemplateError.raised("no").description == "no")
}

@Test(arguments: [
    ("{% if x %}unclosed", 1, 19),
    ("line1\n{{ 1 + }}", 2, 8),
    ("{% frobnicate %}", 1, 4),
    ("ok\n  {{ 'unterminated }}", 2, 6),
    ("{% for x in %}{% endfor %}", 1, 13),
    ("{# never closed", 1, 1),
    ("{{ (1, 2 }}", 1, 10),
])
func syntaxErrorsCarryLineAndColumn(source: String, line: Int, column: Int) {
    #expect {
        _ = try Template(source)
    } throws: { error in
        guard case let .syntax(_, l, c) = error as? TemplateError else { return false }
        return l == line && c == column
    }
}

@Test func renderErrorsThrowInsteadOfTrapping() throws {
    for source in ["{{ 1 / 0 }}", "{{ 'a' + 1 }}", "{{ [1] < 'a' }}", "{{ 9223372036854775807 + 1 }}", "{{ none.x() }}", "{{ range(1000000) }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"] {
        let template = try Template(source)
        #expect(throws: TemplateError.self, "\(source)") { _ = try template.render([:]) }
    }
}

@Test(arguments: [
    "{{ " + String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000) + " }}",
    "{{ " + String(repeating: "not ", count: 5_000) + "x }}",
    "{{ " + String(repeating: "-", count: 5_000) + "1 }}",
    String(repeating: "{% if x %}", count: 5_000),
    "{{ " + String(repeating: "[", count: 5_000) + " }}",
])
func hostileNestingThrows(_ source: String) {
    #expect(throws: TemplateError.self) { _ = try Template(source) }
}

@Test func hugeRepetitionThrows() throws {
    let template = try Template("{{ 'ab' * 1000000000000 }}")
    #expect(throws: TemplateError.self) { _ = try template.render([:]) }
}

@Test func raiseExceptionThrowsRaised() throws {
    let template = try Template("{{ raise_exception('bad ' ~ role) }}")
    #expect(throws: TemplateError.raised("bad system")) { _ = try template.render(["role": "system"]) }
}
