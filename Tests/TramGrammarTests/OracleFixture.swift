import Foundation
import TramGrammar
import TramModels
import TramTestSupport
import TramTokenizer

/// `Tests/Fixtures/grammar_oracle_*.json`: xgrammar 0.2.9's allowed-token sets along random
/// accepted walks over a real tokenizer (made by `scripts/grammar-oracle/make_fixtures.py`; see
/// its NOTES.md for the conventions).
struct OracleFixture: Decodable {
    struct Excluded: Decodable {
        var special: [Int]
        var padding_range: [Int]?
    }

    struct Step: Decodable {
        var allowed_count: Int
        var allowed_hash: String
        var allowed: [Int]?
        var disallowed: [Int]?
        var can_stop: Bool
    }

    struct Walk: Decodable {
        var tokens: [Int]
        var text: String
        var ends_with_stop: Bool
        var steps: [Step]
    }

    struct Case: Decodable {
        var name: String
        var kind: String
        var source: String
        var oracle_ebnf: String
        var options: [String: Bool]
        var walks: [Walk]
    }

    var tokenizer: String
    var vocab_size: Int
    var stop_token: Int
    var excluded_tokens: Excluded
    var cases: [Case]

    static func load(_ name: String) throws -> OracleFixture {
        try JSONDecoder().decode(OracleFixture.self, from: TestResources.fixture(name))
    }

    /// FNV-1a 64 over the ids as 4 little-endian bytes each, as the fixture hashes them.
    static func hash(_ ids: [Int]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in ids {
            for k in 0..<4 {
                h ^= UInt64((UInt32(id) >> (8 * UInt32(k))) & 0xFF)
                h = h &* 0x0000_0100_0000_01B3
            }
        }
        return String(h, radix: 16).leftPadded(16)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

struct UnknownTokenizer: Error {
    var name: String
}

/// The real tokenizers the fixtures were made with, as grammar vocabularies, built once.
enum OracleVocabulary {
    static let smolLM2 = Result { () throws -> TokenVocabulary in
        let tokenizer = try ModelLoader.loadTokenizer(path: TestResources.realModelPath())
        return TokenVocabulary(tokenizer: tokenizer, size: 49152, stopTokens: [2])
    }
    static let qwen = Result { () throws -> TokenVocabulary in
        let tokenizer = try ModelLoader.loadTokenizer(path: TestResources.aliasModelPath("qwen2.5-coder-0.5b-instruct"))
        return TokenVocabulary(tokenizer: tokenizer, size: 151936, stopTokens: [151645])
    }

    static func forFixture(_ fixture: OracleFixture) throws -> TokenVocabulary {
        switch fixture.tokenizer {
        case "smollm2": try smolLM2.get()
        case "qwen2.5": try qwen.get()
        default: throw UnknownTokenizer(name: fixture.tokenizer)
        }
    }
}
