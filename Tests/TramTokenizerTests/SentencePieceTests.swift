import Foundation
import Testing
import TramTokenizer

/// SentencePiece-style BPE on a tiny vocabulary: from GGUF values (merging by score, as
/// llama.cpp does) and from two tokenizer.json styles (Llama 2's normalizer, newer Metaspace),
/// against Hugging Face `tokenizers` and a plain Python port of llama.cpp's merge loop.
@Suite struct SentencePieceTests {
    struct Fixture: Decodable {
        struct GGUF: Decodable {
            var model: String
            var tokens: [String]
            var token_types: [Int32]
            var scores: [Float]
            var bos_token_id: Int
            var eos_token_id: Int
            var unknown_token_id: Int
            var add_bos_token: Bool
            var add_space_prefix: Bool
        }

        struct Case: Decodable, CustomTestStringConvertible {
            var text: String
            var ids: [Int]
            var decoded: String
            var decoded_skip_special: String
            var gguf_ids: [Int]?

            var testDescription: String { String(reflecting: text) }
        }

        struct Style: Decodable {
            var cases: [Case]
        }

        var gguf: GGUF
        var llama2: Style
        var metaspace: Style
    }

    static let fixture = Result { try Fixtures.decode(Fixture.self, from: "tokenizer_sentencepiece.json") }
    static let llama2Cases = (try? fixture.get().llama2.cases) ?? []
    static let metaspaceCases = (try? fixture.get().metaspace.cases) ?? []

    /// The tokenizer.json of one style, re-serialised from the fixture.
    static func tokenizerJSON(style: String) throws -> Data {
        let root = try JSONSerialization.jsonObject(with: Fixtures.data("tokenizer_sentencepiece.json")) as? [String: Any]
        let styleObject = root?[style] as? [String: Any]
        return try JSONSerialization.data(withJSONObject: styleObject?["tokenizer_json"] ?? [:])
    }

    static func ggufTokenizer() throws -> Tokenizer {
        let gguf = try fixture.get().gguf
        return try Tokenizer(gguf: GGUFTokenizerData(
            model: gguf.model, pre: nil, tokens: gguf.tokens, tokenTypes: gguf.token_types, scores: gguf.scores,
            bosTokenID: gguf.bos_token_id, eosTokenID: gguf.eos_token_id, unknownTokenID: gguf.unknown_token_id,
            addBOS: gguf.add_bos_token, addSpacePrefix: gguf.add_space_prefix))
    }

    @Test func fixtureIsPresent() {
        #expect(Self.llama2Cases.count >= 15)
        #expect(Self.metaspaceCases.count >= 15)
    }

    @Test(arguments: llama2Cases)
    func ggufMergesByScore(testCase: Fixture.Case) throws {
        let tokenizer = try Self.ggufTokenizer()
        #expect(tokenizer.encode(testCase.text) == testCase.gguf_ids)
        #expect(tokenizer.encode(testCase.text) == testCase.ids)
        #expect(tokenizer.decode(testCase.ids) == testCase.decoded)
        #expect(tokenizer.decode(testCase.ids, skipSpecialTokens: true) == testCase.decoded_skip_special)
    }

    @Test(arguments: llama2Cases)
    func llama2TokenizerJSON(testCase: Fixture.Case) throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Self.tokenizerJSON(style: "llama2"))
        #expect(tokenizer.encode(testCase.text) == testCase.ids)
        #expect(tokenizer.decode(testCase.ids) == testCase.decoded)
        #expect(tokenizer.decode(testCase.ids, skipSpecialTokens: true) == testCase.decoded_skip_special)
    }

    @Test(arguments: metaspaceCases)
    func metaspaceTokenizerJSON(testCase: Fixture.Case) throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Self.tokenizerJSON(style: "metaspace"))
        #expect(tokenizer.encode(testCase.text) == testCase.ids)
        #expect(tokenizer.decode(testCase.ids) == testCase.decoded)
        #expect(tokenizer.decode(testCase.ids, skipSpecialTokens: true) == testCase.decoded_skip_special)
    }

    @Test(arguments: llama2Cases)
    func streamingMatchesDecode(testCase: Fixture.Case) throws {
        let tokenizer = try Self.ggufTokenizer()
        for skip in [false, true] {
            var stream = tokenizer.makeStreamingDecoder(skipSpecialTokens: skip)
            let streamed = testCase.ids.map { stream.push($0) }.joined() + stream.flush()
            #expect(streamed == tokenizer.decode(testCase.ids, skipSpecialTokens: skip))
        }
    }

    @Test func bosIsAddedOnlyWithSpecialTokens() throws {
        let tokenizer = try Self.ggufTokenizer()
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.encode("hello world", addSpecialTokens: false) == [266, 273])
        #expect(tokenizer.tokenID(for: "\u{2581}hello") == 266)
        #expect(tokenizer.isSpecial(0) && tokenizer.isSpecial(1) && !tokenizer.isSpecial(3))
    }

    @Test func byteFallbackTokensDecodeToBytes() throws {
        let tokenizer = try Self.ggufTokenizer()
        // "<0xE4>" "<0xB8>" "<0xAD>" is 中; one at a time it completes only on the last byte.
        let ids = [3 + 0xE4, 3 + 0xB8, 3 + 0xAD]
        var stream = tokenizer.makeStreamingDecoder()
        #expect(ids.map { stream.push($0) } == ["", "", "中"])
        #expect(tokenizer.decode(ids) == "中")
    }
}
