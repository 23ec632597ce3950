import Foundation
import TramTestSupport
import TramTokenizer

/// SmolLM2's byte-level BPE tokenizer, built once from the committed GGUF-metadata fixture.
enum SmolLM2Tokenizer {
    private struct Metadata: Decodable {
        var model: String
        var pre: String?
        var tokens: [String]
        var token_types: [Int32]
        var merges: [String]
        var bos_token_id: Int?
        var eos_token_id: Int?
    }

    private static let result = Result { () throws -> Tokenizer in
        let m = try JSONDecoder().decode(Metadata.self, from: TestResources.fixture("tokenizer_smollm2_gguf.json"))
        return try Tokenizer(gguf: GGUFTokenizerData(
            model: m.model, pre: m.pre, tokens: m.tokens, tokenTypes: m.token_types, merges: m.merges,
            bosTokenID: m.bos_token_id, eosTokenID: m.eos_token_id))
    }

    static func get() throws -> Tokenizer { try result.get() }
}
