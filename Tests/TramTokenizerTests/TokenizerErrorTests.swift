import Foundation
import Testing
import TramTokenizer

/// Outside data that cannot describe a tokenizer throws a `TokenizerError` naming the problem;
/// nothing traps.
@Suite struct TokenizerErrorTests {
    static func tokenizerJSON(model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
                              preTokenizer: String = "null", extra: String = "") -> Data {
        Data(#"{"added_tokens": [], "normalizer": null, "pre_tokenizer": \#(preTokenizer), "decoder": null, "model": \#(model)\#(extra)}"#.utf8)
    }

    @Test func malformedJSON() {
        for text in ["", "{", #"{"model": }"#, #"{"a": "\ud800"}"#, #"{"a": 1} x"#, "[1,]", #""\x""#] {
            #expect(throws: TokenizerError.self, "\(text)") { try Tokenizer(tokenizerJSON: Data(text.utf8)) }
        }
        let error = #expect(throws: TokenizerError.self) { try Tokenizer(tokenizerJSON: Data(#"{"model": [1, 2"#.utf8)) }
        #expect(error == .invalidJSON(offset: 15, reason: "unexpected end of input"))
    }

    @Test func deeplyNestedJSONDoesNotOverflowTheStack() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: TokenizerError.self) { try Tokenizer(tokenizerJSON: Data(text.utf8)) }
    }

    @Test func minimalTokenizerJSONWorks() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Self.tokenizerJSON())
        #expect(tokenizer.encode("abab") == [2, 2])
        #expect(tokenizer.encode("ba") == [1, 0])
        #expect(tokenizer.encode("xyz") == [])  // no unknown token: unknown characters are dropped
        #expect(tokenizer.decode([2, 0]) == "aba")
    }

    @Test func pairMergesAndEscapedKeys() throws {
        // Keys with JSON escapes, including a surrogate pair, and merges as pairs.
        let model = #"{"type": "BPE", "vocab": {"\u00e9": 0, "\ud83d\ude00": 1, "\u00e9\ud83d\ude00": 2, "e\u0301": 3}, "merges": [["\u00e9", "\ud83d\ude00"]], "byte_fallback": false}"#
        let tokenizer = try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: model))
        #expect(tokenizer.encode("é😀") == [2])
        // Canonically equivalent but distinct tokens stay distinct.
        #expect(tokenizer.tokenID(for: "\u{E9}") == 0)
        #expect(tokenizer.tokenID(for: "e\u{301}") == 3)
    }

    @Test func unsupportedComponents() {
        #expect(throws: TokenizerError.unsupported(component: "model", detail: "WordPiece")) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "WordPiece", "vocab": {}}"#))
        }
        #expect(throws: TokenizerError.unsupported(component: "pre_tokenizer", detail: "BertPreTokenizer")) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(preTokenizer: #"{"type": "BertPreTokenizer"}"#))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: ###"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "continuing_subword_prefix": "##"}"###))
        }
    }

    @Test func badVocabularyAndMerges() {
        #expect(throws: TokenizerError.invalidMerge(index: 0, merge: "a c")) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["a c"]}"#))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": -1}, "merges": []}"#))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 1e12}, "merges": []}"#))
        }
        #expect(throws: TokenizerError.emptyVocabulary) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "BPE", "vocab": {}, "merges": []}"#))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokenizerJSON: Self.tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [3]}"#))
        }
    }

    @Test func badGGUFValues() {
        let tokens = ["a", "b", "ab"]
        #expect(throws: TokenizerError.emptyVocabulary) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "gpt2", pre: "gpt2", tokens: [], merges: []))
        }
        #expect(throws: TokenizerError.unknownModel("bert")) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "bert", pre: nil, tokens: tokens))
        }
        #expect(throws: TokenizerError.unknownPreTokenizer("default")) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "gpt2", pre: "default", tokens: tokens, merges: ["a b"]))
        }
        #expect(throws: TokenizerError.lengthMismatch(key: "tokenizer.ggml.token_type", expected: 3, actual: 1)) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "gpt2", pre: "gpt2", tokens: tokens, tokenTypes: [1], merges: []))
        }
        #expect(throws: TokenizerError.tokenIDOutOfRange(key: "tokenizer.ggml.eos_token_id", id: 7, vocabularySize: 3)) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "gpt2", pre: "gpt2", tokens: tokens, merges: [], eosTokenID: 7))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(gguf: GGUFTokenizerData(model: "llama", pre: nil, tokens: tokens, scores: [0]))
        }
    }

    @Test func ggufMergesNamingMissingTokensAreSkipped() throws {
        let tokenizer = try Tokenizer(gguf: GGUFTokenizerData(
            model: "gpt2", pre: "gpt2", tokens: ["a", "b", "ab"], merges: ["a b", "a x", "garbage", ""]))
        #expect(tokenizer.encode("ab") == [2])
    }

    @Test func concurrentEncodingAgrees() async throws {
        let tokenizer = try SmolLM2.gguf()
        let texts = Fixtures.smolLM2Cases.map(\.text)
        let expected = texts.map { tokenizer.encode($0) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { texts.map { tokenizer.encode($0) } == expected }
            }
            for try await agrees in group { #expect(agrees) }
        }
    }
}
