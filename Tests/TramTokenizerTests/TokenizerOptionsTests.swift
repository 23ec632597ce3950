import Foundation
import Testing
import TramTokenizer

/// tokenizer.json options on tiny vocabularies; expectations from Hugging Face `tokenizers`.
@Suite struct TokenizerOptionsTests {
    /// Byte-level BPE over {a b c ab abc Ġ Ġa é e ◌́} with the merge "a b", `ignore_merges`,
    /// and added tokens <x> (special, lstrip, rstrip), <y> (not special), <xy> (special).
    static func byteLevelTokenizer() throws -> Tokenizer {
        let json = #"""
            {"added_tokens": [
               {"id": 10, "content": "<x>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": true},
               {"id": 11, "content": "<y>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
               {"id": 12, "content": "<xy>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
             "post_processor": null, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "ignore_merges": true,
                       "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "Ġ": 5, "Ġa": 6, "é": 7, "e": 8, "\u0301": 9},
                       "merges": ["a b"]}}
            """#
        return try Tokenizer(tokenizerJSON: Data(json.utf8))
    }

    @Test func ignoreMergesTakesWholeWordTokens() throws {
        // "abc" is a token, so it is used although no merge builds it.
        #expect(try Self.byteLevelTokenizer().encode("abc ab") == [4, 5, 3])
    }

    @Test func addedTokensStripAndMatchLongestFirst() throws {
        let tokenizer = try Self.byteLevelTokenizer()
        #expect(tokenizer.encode("a <x>  b") == [0, 10, 1])
        #expect(tokenizer.encode("a\t<x>\nb") == [0, 10, 1])
        #expect(tokenizer.encode("a <y> b") == [0, 5, 11, 5, 1])
        #expect(tokenizer.encode("<xy><x><y>") == [12, 10, 11])
        #expect(tokenizer.decode([12, 10, 11]) == "<xy><x><y>")
        #expect(tokenizer.decode([12, 10, 11], skipSpecialTokens: true) == "<y>")
        #expect(tokenizer.isSpecial(10) && !tokenizer.isSpecial(11))
        #expect(tokenizer.tokenID(for: "<xy>") == 12)
        #expect(tokenizer.vocabularySize == 13)
    }

    @Test func nfcNormalizerComposes() throws {
        let json = #"""
            {"added_tokens": [], "normalizer": {"type": "NFC"}, "pre_tokenizer": null, "decoder": null,
             "model": {"type": "BPE", "vocab": {"é": 0, "e": 1, "\u0301": 2}, "merges": []}}
            """#
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.encode("e\u{301}") == [0])
        #expect(tokenizer.encode("\u{E9}") == [0])
        // Without the normalizer the decomposed form stays two tokens.
        let plain = try Tokenizer(tokenizerJSON: Data(json.replacingOccurrences(of: #"{"type": "NFC"}"#, with: "null").utf8))
        #expect(plain.encode("e\u{301}") == [1, 2])
    }

    @Test func templatePostProcessorAddsBOSAndConfigOverridesIt() throws {
        let json = #"""
            {"added_tokens": [{"id": 2, "content": "<s>", "special": true}, {"id": 3, "content": "</s>", "special": true}],
             "normalizer": null, "pre_tokenizer": null, "decoder": null,
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "special_tokens": {"<s>": {"id": "<s>", "ids": [2], "tokens": ["<s>"]}}},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}
            """#
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.encode("ab") == [2, 0, 1])
        #expect(tokenizer.encode("ab", addSpecialTokens: false) == [0, 1])
        #expect(tokenizer.bosTokenID == 2)
        let config = #"{"add_bos_token": false, "add_eos_token": true, "bos_token": "<s>", "eos_token": "</s>"}"#
        let configured = try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: Data(config.utf8))
        #expect(configured.encode("ab") == [0, 1, 3])
        #expect(configured.eosTokenID == 3)
    }
}
