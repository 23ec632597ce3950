import Testing
import TramBench

/// Chunks as Tram, vLLM, OpenAI and llama-server send them.
struct StreamChunkTests {
    @Test func completionText() throws {
        let chunk = try StreamChunk.parse(#"{"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":null}]}"#)
        #expect(chunk == StreamChunk(hasChoice: true, text: " Paris"))
    }

    @Test func chatRoleDeltaCarriesNoText() throws {
        let chunk = try StreamChunk.parse(#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#)
        #expect(chunk == StreamChunk(hasChoice: true, text: ""))
        let null = try StreamChunk.parse(#"{"choices":[{"index":0,"delta":{"content":null},"finish_reason":"length"}],"usage":null}"#)
        #expect(null == StreamChunk(hasChoice: true, text: ""))
    }

    @Test func chatContentAndReasoning() throws {
        #expect(try StreamChunk.parse(#"{"choices":[{"delta":{"content":"Hi"}}]}"#)?.text == "Hi")
        #expect(try StreamChunk.parse(#"{"choices":[{"delta":{"reasoning_content":"Hm"}}]}"#)?.text == "Hm")
    }

    /// Tram and vLLM: a last chunk with empty choices and the usage.
    @Test func usageOnlyChunk() throws {
        let chunk = try StreamChunk.parse(#"{"choices":[],"usage":{"prompt_tokens":16,"completion_tokens":8,"total_tokens":24}}"#)
        #expect(chunk == StreamChunk(hasChoice: false, promptTokens: 16, completionTokens: 8))
    }

    /// llama-server: usage (and timings) ride on the chunk with the finish reason.
    @Test func usageOnTheFinishChunk() throws {
        let chunk = try StreamChunk.parse(#"{"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"completion_tokens":8,"prompt_tokens":16,"total_tokens":24},"timings":{"predicted_n":8}}"#)
        #expect(chunk == StreamChunk(hasChoice: true, text: "", promptTokens: 16, completionTokens: 8))
    }

    @Test func errorEventAndDone() throws {
        let chunk = try StreamChunk.parse(#"{"error":{"message":"engine died","type":"InternalServerError","code":500}}"#)
        #expect(chunk?.error == "engine died")
        #expect(try StreamChunk.parse("[DONE]") == nil)
        #expect(try StreamChunk.parse(" [DONE] ") == nil)
    }

    @Test func garbageThrows() {
        #expect(throws: (any Error).self) { try StreamChunk.parse("not json") }
        #expect(throws: (any Error).self) { try StreamChunk.parse("[1, 2]") }
    }
}
