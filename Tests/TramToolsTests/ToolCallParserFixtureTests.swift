import Foundation
import Testing
import TramJSON
import TramTestSupport
import TramTools

/// vLLM's llama3_json, mistral and pythonic formats against `Tests/Fixtures/tool_parsers.json`,
/// the calls Python's own `ast` and `json` read out of the same outputs
/// (scripts/reference/make_tool_parser_fixtures.py): whole and streamed in pieces of every size
/// from 1 character up, the same calls and content.
@Suite struct ToolCallParserFixtureTests {
    struct Case {
        var parser: String
        var output: String
        var content: String?
        var calls: [(name: String, arguments: JSONValue)]
    }

    static let cases: [Case] = {
        let data = try! TestResources.fixture("tool_parsers.json")
        let root = try! JSONParser.parse(Array(data))
        return root["cases"]!.arrayValue!.map { c in
            Case(parser: c["parser"]!.stringValue!, output: c["output"]!.stringValue!, content: c["content"]!.stringValue,
                 calls: c["calls"]!.arrayValue!.map { ($0["name"]!.stringValue!, $0["arguments"]!) })
        }
    }()

    /// Equal JSON values; numbers by value (`1e3` and `1000.0` are the same number).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.integer, _), (.number, _):
            guard let x = a.doubleValue, let y = b.doubleValue else { return false }
            return x == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
        default: return false
        }
    }

    func check(_ c: Case, content: String?, calls: [ToolCall], _ how: String) {
        #expect(content == c.content, "\(c.parser) \(how): content of \(c.output)")
        #expect(calls.map(\.name) == c.calls.map(\.name), "\(c.parser) \(how): names of \(c.output)")
        for (call, expected) in zip(calls, c.calls) {
            let value = try? JSONParser.parse(Array(call.arguments.utf8))
            #expect(value.map { Self.same($0, expected.arguments) } == true,
                    "\(c.parser) \(how): arguments \(call.arguments) of \(c.output)")
        }
    }

    @Test(arguments: ["llama3_json", "mistral", "pythonic"])
    func matchesPython(parser name: String) throws {
        let cases = Self.cases.filter { $0.parser == name }
        #expect(cases.count >= 3)
        for c in cases {
            var parser = try #require(ToolCallParsers.make(name))
            let whole = parser.parse(c.output)
            check(c, content: whole.content, calls: whole.calls, "whole")
            for size in 1...max(1, c.output.count) {
                let fresh: any ToolCallParser = try #require(ToolCallParsers.make(name))
                let s = ToolCallParserTests.streamed(fresh, c.output, size: size)
                let trimmed = s.content.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines)
                check(c, content: trimmed.isEmpty ? nil : (s.calls.isEmpty ? s.content : trimmed), calls: s.calls, "pieces of \(size)")
            }
        }
    }

    @Test func pythonicArgumentsAreJSONDumpsSpelled() {
        var p = PythonicToolCallParser()
        let (content, calls) = p.parse("[f(a='x', b=[1, 2], c={'k': None})]")
        #expect(content == nil)
        #expect(calls == [ToolCall(name: "f", arguments: #"{"a": "x", "b": [1, 2], "c": {"k": null}}"#)])
    }

    @Test func pythonicStreamsArgumentsBeforeTheCallCloses() {
        var p = PythonicToolCallParser()
        var events = p.feed("[get_weather(city='Par")
        #expect(events == [.start(index: 0, name: "get_weather"), .arguments(index: 0, #"{"city": "Par"#)])
        events = p.feed("is', days=1")
        #expect(events == [.arguments(index: 0, #"is", "days": "#)], "a key once its value begins; the number waits for its end")
        events = p.feed("0)]")
        #expect(events == [.arguments(index: 0, "10}")])
        #expect(p.finish().isEmpty)
    }

    @Test func pythonicCutShortKeepsWhatCameOut() {
        var p = PythonicToolCallParser()
        let (_, calls) = p.parse("[f(a=1, b=2")
        #expect(calls == [ToolCall(name: "f", arguments: #"{"a": 1, "b": 2"#)], "the last number ends with the text")
        var q = PythonicToolCallParser()
        let bad = q.parse("[f(a=1) oops")
        #expect(bad.calls == [ToolCall(name: "f", arguments: #"{"a": 1}"#)])
        #expect(bad.content == "oops", "what follows a call and is not one is content")
    }

    @Test func pythonicRunawayNestingIsTextNotACrash() {
        var p = PythonicToolCallParser()
        let deep = "[f(a=" + String(repeating: "[", count: 100_000) + "1" + String(repeating: "]", count: 100_000) + ")]"
        let (content, calls) = p.parse(deep)
        #expect(calls.map(\.name) == ["f"], "the call was read as far as its name")
        #expect(content?.hasPrefix("[[[") == true, "past 512 levels the rest is content")
    }

    @Test func llama3TextAfterCallsIsContent() {
        var p = Llama3JSONToolCallParser()
        let (content, calls) = p.parse(#"{"name": "f", "parameters": {"a": 1}} and then some words"#)
        #expect(calls == [ToolCall(name: "f", arguments: #"{"a": 1}"#)])
        #expect(content == "and then some words")
        var q = Llama3JSONToolCallParser()
        #expect(q.feed("<|python") == [], "a possible tag is held back")
        #expect(q.feed("_tag|>{\"name\": \"g\"") == [.start(index: 0, name: "g")])
    }

    @Test func mistralHoldsBackASplitTag() {
        var p = MistralToolCallParser()
        #expect(p.feed("Sure. [TOOL_") == [.content("Sure. ")])
        #expect(p.feed("CALLS]lookup{\"q\": ") == [.start(index: 0, name: "lookup"), .arguments(index: 0, "{\"q\": ")])
        #expect(p.feed("1}") == [.arguments(index: 0, "1}")])
        #expect(p.finish().isEmpty)
        var q = MistralToolCallParser()
        #expect(q.parse("Costs [TOOL_ nothing").content == "Costs [TOOL_ nothing", "a tag prefix that never completes is text")
    }

    @Test func everyNamedParserIsMade() {
        for name in ToolCallParsers.names { #expect(ToolCallParsers.make(name) != nil, "\(name)") }
        #expect(ToolCallParsers.readsSpecialTokens("mistral") && !ToolCallParsers.readsSpecialTokens("hermes"))
    }
}
