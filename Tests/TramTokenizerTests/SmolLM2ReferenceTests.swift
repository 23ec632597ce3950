import Foundation
import Testing
import TramTokenizer

/// SmolLM2 built from GGUF metadata and from tokenizer.json must both reproduce the ids and
/// decoded text of Hugging Face `tokenizers` exactly.
@Suite struct SmolLM2ReferenceTests {
    @Test func fixturesArePresent() {
        #expect(Fixtures.smolLM2Cases.count >= 70 + 30)
        #expect(Fixtures.smolLM2DecodeCases.count >= 10)
    }

    @Test(arguments: SmolLM2.Source.allCases, Fixtures.smolLM2Cases)
    func encodeMatchesReference(source: SmolLM2.Source, testCase: Fixtures.EncodeCase) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        #expect(tokenizer.encode(testCase.text) == testCase.ids)
    }

    @Test(arguments: SmolLM2.Source.allCases, Fixtures.smolLM2Cases)
    func decodeMatchesReference(source: SmolLM2.Source, testCase: Fixtures.EncodeCase) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        #expect(scalars(tokenizer.decode(testCase.ids)) == scalars(testCase.decoded))
        if let skipped = testCase.decoded_skip_special {
            #expect(scalars(tokenizer.decode(testCase.ids, skipSpecialTokens: true)) == scalars(skipped))
        }
    }

    @Test(arguments: SmolLM2.Source.allCases, Fixtures.smolLM2DecodeCases)
    func decodeRepairsUTF8LikeReference(source: SmolLM2.Source, testCase: Fixtures.DecodeCase) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        #expect(scalars(tokenizer.decode(testCase.ids)) == scalars(testCase.decoded))
        var stream = tokenizer.makeStreamingDecoder()
        let streamed = testCase.ids.map { stream.push($0) }.joined() + stream.flush()
        #expect(scalars(streamed) == scalars(testCase.decoded))
    }

    @Test(arguments: SmolLM2.Source.allCases)
    func vocabularyAndSpecialTokens(source: SmolLM2.Source) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.tokenID(for: "<|im_start|>") == 1)
        #expect(tokenizer.tokenID(for: "Ġworld") == 905)
        #expect(tokenizer.tokenID(for: "no such token") == nil)
        #expect(tokenizer.token(for: 2) == "<|im_end|>")
        #expect(tokenizer.token(for: -1) == nil)
        #expect(tokenizer.token(for: 49152) == nil)
        #expect(tokenizer.isSpecial(0) && tokenizer.isSpecial(16))
        #expect(!tokenizer.isSpecial(17) && !tokenizer.isSpecial(-5) && !tokenizer.isSpecial(1 << 40))
    }

    @Test func ggufKnowsBOSAndEOSButAddsNeither() throws {
        let tokenizer = try SmolLM2.gguf()
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.encode("Hello", addSpecialTokens: true) == tokenizer.encode("Hello", addSpecialTokens: false))
    }

    @Test func tokenizerConfigSuppliesBOSAndEOS() throws {
        let config = #"{"add_bos_token": true, "add_eos_token": true, "bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"}}"#
        let tokenizer = try Tokenizer(
            tokenizerJSON: Fixtures.data("tokenizer_smollm2_hf.json"), tokenizerConfigJSON: Data(config.utf8))
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.encode("Hello world") == [1, 19556, 905, 2])
        #expect(tokenizer.encode("Hello world", addSpecialTokens: false) == [19556, 905])
    }

    @Test(arguments: SmolLM2.Source.allCases)
    func outOfRangeIDsAreSkippedWhenDecoding(source: SmolLM2.Source) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        #expect(tokenizer.decode([19556, -1, 49152, Int.max, Int.min, 905]) == "Hello world")
    }

    @Test(arguments: SmolLM2.Source.allCases)
    func roundTripsArbitraryText(source: SmolLM2.Source) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        let text = "Ünïcödé ✓ — “quotes” \t\r\n 0123456789 ½ 𝔘𝔫𝔦 <|im_end|> <not special> 🏳️‍🌈"
        #expect(scalars(tokenizer.decode(tokenizer.encode(text))) == scalars(text))
    }
}
