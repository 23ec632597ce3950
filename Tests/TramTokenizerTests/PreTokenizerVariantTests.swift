import Foundation
import Testing
import TramTokenizer

/// Llama 3's and Qwen2's pre-tokenizers end to end on a real vocabulary (SmolLM2's), from GGUF
/// (`tokenizer.ggml.pre` "llama-bpe" / "qwen2") and from tokenizer.json (`Split` regex then
/// `ByteLevel`; Qwen2's NFC normalizer, which its GGUF pre-tokenizer name implies), against
/// `tokenizers`.
@Suite struct PreTokenizerVariantTests {
    struct Case: Decodable, CustomTestStringConvertible {
        var text: String
        var llama3_ids: [Int]
        var qwen2_ids: [Int]
        var testDescription: String { String(reflecting: text) }
    }

    struct Fixture: Decodable {
        var cases: [Case]
    }

    static let cases = (try? Fixtures.decode(Fixture.self, from: "tokenizer_smollm2_variants.json").cases) ?? []

    static let ggufTokenizers = Result { () throws -> [String: Tokenizer] in
        var metadata = try Fixtures.decode(Fixtures.GGUFMetadata.self, from: "tokenizer_smollm2_gguf.json").tokenizerData
        var result: [String: Tokenizer] = [:]
        for (name, pre) in [("llama3", "llama-bpe"), ("qwen2", "qwen2")] {
            metadata.pre = pre
            metadata.addBOS = false  // the fixture was made without a BOS template
            result[name] = try Tokenizer(gguf: metadata)
        }
        return result
    }

    static let jsonTokenizers = Result { () throws -> [String: Tokenizer] in
        var result: [String: Tokenizer] = [:]
        let patterns = [
            "llama3": #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            "qwen2": #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
        ]
        for (name, pattern) in patterns {
            var root = try JSONSerialization.jsonObject(with: Fixtures.data("tokenizer_smollm2_hf.json")) as? [String: Any] ?? [:]
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ]]
            var model = root["model"] as? [String: Any] ?? [:]
            model["ignore_merges"] = name == "llama3"
            root["model"] = model
            if name == "qwen2" { root["normalizer"] = ["type": "NFC"] }
            result[name] = try Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: root))
        }
        return result
    }

    @Test func fixtureIsPresent() {
        #expect(Self.cases.count >= 90)
    }

    @Test(arguments: cases)
    func matchesReference(testCase: Case) throws {
        for tokenizers in [try Self.ggufTokenizers.get(), try Self.jsonTokenizers.get()] {
            #expect(tokenizers["llama3"]?.encode(testCase.text) == testCase.llama3_ids)
            #expect(tokenizers["qwen2"]?.encode(testCase.text) == testCase.qwen2_ids)
        }
    }

    @Test func llamaBPEAddsBOSByDefault() throws {
        var metadata = try Fixtures.decode(Fixtures.GGUFMetadata.self, from: "tokenizer_smollm2_gguf.json").tokenizerData
        metadata.pre = "llama-bpe"
        metadata.addBOS = nil
        let tokenizer = try Tokenizer(gguf: metadata)
        #expect(tokenizer.encode("Hi").first == 1)
        #expect(tokenizer.encode("Hi", addSpecialTokens: false).first != 1)
    }
}
