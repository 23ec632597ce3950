import Foundation
import Testing
import TramTokenizer

/// Every scanner against the pieces Python `regex` (checked against Oniguruma) gives for the
/// exact patterns, both directly and as a tokenizer.json `Split`/`Sequence` configures it.
@Suite struct PreTokenizerTests {
    @Test func fixtureIsLargeEnough() {
        #expect(Fixtures.preTokenizeCases.count >= 60)
    }

    @Test(arguments: Fixtures.preTokenizeCases)
    func scannersMatchRegex(testCase: Fixtures.PreTokenizeCase) {
        for kind in KnownPreTokenizer.allCases {
            let expected = testCase.pieces(Fixtures.KnownPreTokenizerName(rawValue: kind.rawValue)!)
            #expect(scalars(kind.split(testCase.text)) == scalars(expected), "\(kind)")
        }
    }

    /// A tokenizer.json whose pre-tokenizer is `preTokenizer` and whose vocabulary is just the
    /// 256 byte-level characters.
    static func byteLevelTokenizer(preTokenizer: String) throws -> Tokenizer {
        var vocab: [String] = []
        var view = String.UnicodeScalarView()
        for value in Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF) + Array(0x100...0x143) {
            view.removeAll()
            view.append(Unicode.Scalar(UInt32(value))!)
            vocab.append(String(view))
        }
        let vocabJSON = vocab.enumerated().map { index, token in
            "\(jsonString(token)): \(index)"
        }.joined(separator: ", ")
        let json = """
            {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": \(preTokenizer),
             "post_processor": null, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {\(vocabJSON)}, "merges": []}}
            """
        return try Tokenizer(tokenizerJSON: Data(json.utf8))
    }

    static func jsonString(_ string: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    static func splitConfig(_ pattern: String) -> String {
        """
        {"type": "Sequence", "pretokenizers": [
          {"type": "Split", "pattern": {"Regex": \(jsonString(pattern))}, "behavior": "Isolated", "invert": false},
          {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
        """
    }

    static let configurations: [(name: Fixtures.KnownPreTokenizerName, json: String)] = [
        (.gpt2, #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#),
        (.smollm, """
            {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true},
              {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}]}
            """),
        (.llama3, splitConfig(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)),
        (.qwen2, splitConfig(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)),
    ]

    @Test func tokenizerJSONConfigurationsMatchRegex() throws {
        for configuration in Self.configurations {
            let tokenizer = try Self.byteLevelTokenizer(preTokenizer: configuration.json)
            for testCase in Fixtures.preTokenizeCases {
                #expect(scalars(tokenizer.preTokenize(testCase.text)) == scalars(testCase.pieces(configuration.name)),
                        "\(configuration.name) \(String(reflecting: testCase.text))")
                // Without merges, every byte is a token: encoding loses nothing.
                #expect(scalars(tokenizer.decode(tokenizer.encode(testCase.text))) == scalars(testCase.text))
            }
        }
    }

    @Test func unknownSplitRegexIsRefused() throws {
        #expect(throws: TokenizerError.unknownSplitPattern(#"\w+"#)) {
            try Self.byteLevelTokenizer(preTokenizer: Self.splitConfig(#"\w+"#))
        }
    }

    @Test func byteLevelMustComeLast() throws {
        let json = """
            {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel", "use_regex": true},
              {"type": "Digits", "individual_digits": true}]}
            """
        #expect(throws: TokenizerError.self) { try Self.byteLevelTokenizer(preTokenizer: json) }
    }

    @Test func byteLevelAddPrefixSpace() throws {
        let tokenizer = try Self.byteLevelTokenizer(preTokenizer: #"{"type": "ByteLevel", "add_prefix_space": true}"#)
        #expect(tokenizer.preTokenize("Hello world") == [" Hello", " world"])
        #expect(tokenizer.preTokenize(" Hello") == [" Hello"])
    }

    @Test func literalSplitBehaviors() throws {
        let expectations: [(String, [String])] = [
            ("Removed", ["a", "b", "c"]),
            ("Isolated", ["a", "-", "b", "-", "-", "c"]),
            ("MergedWithPrevious", ["a-", "b-", "-", "c"]),
            ("MergedWithNext", ["a", "-b", "-", "-c"]),
            ("Contiguous", ["a", "-", "b", "--", "c"]),
        ]
        for (behavior, pieces) in expectations {
            let json = #"{"type": "Split", "pattern": {"String": "-"}, "behavior": "\#(behavior)", "invert": false}"#
            let tokenizer = try Self.byteLevelTokenizer(preTokenizer: json)
            #expect(tokenizer.preTokenize("a-b--c") == pieces, "\(behavior)")
        }
    }

    @Test func ggufPreTokenizerNames() {
        #expect(KnownPreTokenizer(ggufName: "smollm") == .smollm)
        #expect(KnownPreTokenizer(ggufName: "llama-bpe") == .llama3)
        #expect(KnownPreTokenizer(ggufName: "qwen2") == .qwen2)
        #expect(KnownPreTokenizer(ggufName: "gpt2") == .gpt2)
        #expect(KnownPreTokenizer(ggufName: "default") == nil)
    }
}
