import Testing
import TramTools

@Suite struct ToolCallParserTests {
    /// Feeds `text` in pieces of `size` characters and gathers the events back into content and
    /// calls, checking that every call starts before its arguments.
    static func streamed(_ parser: some ToolCallParser, _ text: String, size: Int) -> (content: String, calls: [ToolCall]) {
        var parser = parser
        var events: [ToolCallEvent] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            events += parser.feed(String(text[i..<j]))
            i = j
        }
        events += parser.finish()
        var content = ""
        var calls: [ToolCall] = []
        for e in events {
            switch e {
            case .content(let s): content += s
            case .start(let index, let name):
                #expect(index == calls.count)
                calls.append(ToolCall(name: name, arguments: ""))
            case .arguments(let index, let s):
                #expect(index < calls.count, "arguments before the call's name")
                calls[index].arguments += s
            }
        }
        return (content, calls)
    }

    static let weather = #"{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}"#

    @Test func hermesCallsAndContent() {
        var p = HermesToolCallParser()
        let text = "Let me check.\n<tool_call>\n\(Self.weather)\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"
        let (content, calls) = p.parse(text)
        #expect(content == "Let me check.")
        #expect(calls == [ToolCall(name: "get_weather", arguments: #"{"city": "Paris", "unit": "celsius"}"#),
                          ToolCall(name: "get_time", arguments: "{}")])
        for size in [1, 2, 3, 7, 50] {
            let s = Self.streamed(HermesToolCallParser(), text, size: size)
            #expect(s.calls == calls, "piece size \(size)")
            #expect(s.content.trimmingCharacters() == "Let me check.", "piece size \(size): no markup in content: \(s.content)")
        }
    }

    @Test func hermesWithoutCallsIsContent() {
        var p = HermesToolCallParser()
        #expect(p.parse("Just text, a < sign and <tool but no call.").content == "Just text, a < sign and <tool but no call.")
        var q = HermesToolCallParser()
        let broken = q.parse("<tool_call>\nnot json\n</tool_call>")
        #expect(broken.calls.isEmpty && broken.content == "<tool_call>\nnot json\n</tool_call>")
        var r = HermesToolCallParser()
        let unfinished = r.parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1")
        #expect(unfinished.calls == [ToolCall(name: "f", arguments: "{\"a\": 1")], "a call cut short keeps what came out")
    }

    @Test func argumentsBeforeNameStillStreamAfterIt() {
        let text = #"<tool_call>{"arguments": {"x": [1, 2]}, "name": "f"}</tool_call>"#
        var p = HermesToolCallParser()
        #expect(p.parse(text).calls == [ToolCall(name: "f", arguments: #"{"x": [1, 2]}"#)])
        #expect(Self.streamed(HermesToolCallParser(), text, size: 1).calls == [ToolCall(name: "f", arguments: #"{"x": [1, 2]}"#)])
    }

    @Test func requiredArrays() {
        let text = #"[{"name": "a", "parameters": {"q": "x"}}, {"name": "b", "parameters": {}}]"#
        var p = RequiredToolCallParser()
        let whole = p.parse(text)
        #expect(whole.calls == [ToolCall(name: "a", arguments: #"{"q": "x"}"#), ToolCall(name: "b", arguments: "{}")])
        #expect(whole.content == nil)
        for size in [1, 4, 100] { #expect(Self.streamed(RequiredToolCallParser(), text, size: size).calls == whole.calls) }
    }

    @Test func namedChoiceIsTheArguments() {
        var p = NamedToolCallParser(name: "get_weather")
        #expect(p.parse(#"{"city": "Paris"}"#).calls == [ToolCall(name: "get_weather", arguments: #"{"city": "Paris"}"#)])
        #expect(Self.streamed(NamedToolCallParser(name: "f"), #"{"a": 1}"#, size: 2).calls == [ToolCall(name: "f", arguments: #"{"a": 1}"#)])
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

@Suite struct ReasoningParserTests {
    static func streamed(_ kind: ReasoningParser.Kind, _ text: String, size: Int) -> (String, String) {
        var p = ReasoningParser(kind)
        var reasoning = "", content = ""
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            let (r, c) = p.feed(String(text[i..<j]))
            reasoning += r
            content += c
            i = j
        }
        let (r, c) = p.finish()
        return (reasoning + r, content + c)
    }

    @Test func thinkBlocksSplitOff() {
        let text = "<think>\nThe user wants 2+2. That is 4.\n</think>\n\nThe answer is 4."
        for kind in ReasoningParser.Kind.allCases {
            var p = ReasoningParser(kind)
            let parsed = p.parse(text)
            #expect(parsed.reasoning == "\nThe user wants 2+2. That is 4.\n" && parsed.content == "The answer is 4.", "\(kind)")
            for size in [1, 2, 5, 100] {
                let (r, c) = Self.streamed(kind, text, size: size)
                #expect(r == parsed.reasoning && c == parsed.content, "\(kind) size \(size)")
            }
        }
    }

    @Test func withoutTagsEachParserDecides() {
        var r1 = ReasoningParser(.deepseekR1)
        let a = r1.parse("thinking, with the <think> tag in the prompt</think>answer")
        #expect(a.reasoning == "thinking, with the <think> tag in the prompt" && a.content == "answer")
        var r2 = ReasoningParser(.deepseekR1)
        #expect(r2.parse("never closed").reasoning == "never closed")
        var q = ReasoningParser(.qwen3)
        let b = q.parse("No thinking here.")
        #expect(b.reasoning == nil && b.content == "No thinking here.")
        #expect(Self.streamed(.qwen3, "No <thinking> here.", size: 1) == ("", "No <thinking> here."))
    }
}
