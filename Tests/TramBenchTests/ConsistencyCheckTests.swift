import Testing
import TramBench

struct ConsistencyCheckTests {
    static func output(prompt: Int, tokens: Int?, chunks: Int) -> RequestOutput {
        var o = RequestOutput(promptLen: prompt)
        o.success = true
        o.outputTokens = tokens
        o.textChunks = chunks
        return o
    }

    static let requests = Array(repeating: SampleRequest(prompt: "x", promptLen: 16, expectedOutputLen: 8), count: 3)

    @Test func agreeingServerGivesNoWarning() {
        let outputs = Array(repeating: Self.output(prompt: 16, tokens: 8, chunks: 7), count: 3)
        #expect(ConsistencyCheck.warnings(requests: Self.requests, outputs: outputs, api: .completions, ignoreEOS: true).isEmpty)
    }

    @Test func eachDisagreementIsReportedOnce() {
        let outputs = [
            Self.output(prompt: 17, tokens: 8, chunks: 8),   // another tokenizer on the server
            Self.output(prompt: 16, tokens: 5, chunks: 6),   // stopped early, more chunks than tokens
            Self.output(prompt: 16, tokens: nil, chunks: 8),  // no usage chunk
        ]
        let warnings = ConsistencyCheck.warnings(requests: Self.requests, outputs: outputs, api: .completions, ignoreEOS: true)
        #expect(warnings.count == 4)
        #expect(warnings.contains { $0.hasPrefix("1 of 3 requests ended without a usage chunk") })
        #expect(warnings.contains { $0.contains("max_tokens") && $0.contains("request 1: 5 of 8") })
        #expect(warnings.contains { $0.contains("more text chunks") })
        #expect(warnings.contains { $0.contains("prompt tokens") && $0.contains("server 17, expected 16") })
        // A chat prompt gains its template's tokens: not a disagreement; nor are early stops without ignore_eos.
        let chat = ConsistencyCheck.warnings(requests: Self.requests, outputs: Array(outputs.prefix(1)), api: .chat, ignoreEOS: false)
        #expect(chat.isEmpty)
    }
}
