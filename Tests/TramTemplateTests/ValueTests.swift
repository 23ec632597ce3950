import Foundation
import Testing
import TramTemplate

@Test func jsonKeepsKeyOrder() throws {
    let value = try Value(json: #"{"z": 1, "a": [true, null, 2.5, "x\n\u00e9\ud83d\ude00"], "m": {}}"#)
    let template = try Template("{% for k in v %}{{ k }}{% endfor %} {{ v | tojson }}")
    #expect(try template.render(["v": value]) == #"zam {"z": 1, "a": [true, null, 2.5, "x\né😀"], "m": {}}"#)
}

@Test(arguments: ["{", "[1,", #"{"a" 1}"#, "tru", #""\x""#, "[1] 2", String(repeating: "[", count: 10_000)])
func badJSONThrows(_ text: String) {
    #expect(throws: TemplateError.self) { _ = try Value(json: text) }
}

/// The shared JSON reader (TramJSON) as templates see it: integers stay integers, other numbers
/// are floats, a repeated key keeps its last value in its first place, nesting is bounded.
@Test func jsonNumbersKeysAndDepth() throws {
    #expect(try Value(json: #"[1, -0, 1.0, 1e2, 12345678901234567890]"#) == .array([.int(1), .int(0), .double(1), .double(100), .double(12345678901234567890)]))
    let template = try Template("{{ v | tojson }}")
    #expect(try template.render(["v": try Value(json: #"{"a": 1, "b": 2, "a": 3}"#)]) == #"{"a": 3, "b": 2}"#)
    #expect(throws: Never.self) { _ = try Value(json: String(repeating: "[", count: 256) + String(repeating: "]", count: 256)) }
    #expect(throws: TemplateError.self) { _ = try Value(json: String(repeating: "[", count: 257) + String(repeating: "]", count: 257)) }
}

@Test func literalsBuildOrderedValues() throws {
    let message: Value = ["role": "user", "content": "Hi", "n": 1, "x": 1.5, "ok": true, "none": nil]
    let template = try Template("{{ m | tojson }} {{ m.keys() | list }}")
    #expect(try template.render(["m": message]) == #"{"role": "user", "content": "Hi", "n": 1, "x": 1.5, "ok": true, "none": null} ['role', 'content', 'n', 'x', 'ok', 'none']"#)
}

@Test func valueFromJSONSerialization() throws {
    let any = try JSONSerialization.jsonObject(with: Data(#"{"b": [1, 2.5, true, null, "s"], "a": false}"#.utf8))
    let value = try Value(any: any)
    #expect(try Template("{{ v | tojson }}").render(["v": value]) == #"{"a": false, "b": [1, 2.5, true, null, "s"]}"#)
}

@Test func dictionaryInitSortsKeys() throws {
    let value = Value(["b": Value(1), "a": Value("x")])
    #expect(try Template("{{ v | tojson }}").render(["v": value]) == #"{"a": "x", "b": 1}"#)
}

@Test(arguments: [
    (1.0, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (1234567890123456.0, "1234567890123456.0"), (1e-5, "1e-05"),
    (0.0001, "0.0001"), (-2.5, "-2.5"), (1.5e300, "1.5e+300"), (123456.789, "123456.789"), (5e-324, "5e-324"),
])
func floatsPrintLikePython(value: Double, expected: String) throws {
    #expect(try Template("{{ x }}").render(["x": .double(value)]) == expected)
}

@Test func renderingIsRepeatableAndConcurrent() async throws {
    let template = try Template("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}")
    let context: [String: Value] = ["messages": [["role": "user", "content": "a"], ["role": "assistant", "content": "b"]]]
    let outputs = try await withThrowingTaskGroup(of: String.self) { group in
        for _ in 0..<8 { group.addTask { try template.render(context) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(Set(outputs) == ["user:a;assistant:b;"])
}
