import Foundation
import Testing
import TramTokenizer

/// Test fixtures under Tests/Fixtures, written by scripts/reference/make_pretokenizer_fixtures.py
/// (and tokenizer_smollm2.json by scripts/reference/make_fixtures.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func decode<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        try JSONDecoder().decode(type, from: data(name))
    }

    struct EncodeCase: Decodable, CustomTestStringConvertible {
        var text: String
        var ids: [Int]
        var decoded: String
        var decoded_skip_special: String?

        var testDescription: String { String(reflecting: text) }
    }

    struct EncodeCases: Decodable {
        var cases: [EncodeCase]
        var decode_cases: [DecodeCase]?
    }

    struct DecodeCase: Decodable, CustomTestStringConvertible {
        var ids: [Int]
        var decoded: String

        var testDescription: String { "\(ids)" }
    }

    struct PreTokenizeCase: Decodable, CustomTestStringConvertible {
        var text: String
        var gpt2: [String]
        var smollm: [String]
        var llama3: [String]
        var qwen2: [String]

        var testDescription: String { String(reflecting: text) }

        func pieces(_ kind: KnownPreTokenizerName) -> [String] {
            switch kind {
            case .gpt2: gpt2
            case .smollm: smollm
            case .llama3: llama3
            case .qwen2: qwen2
            }
        }
    }

    enum KnownPreTokenizerName: String, CaseIterable { case gpt2, smollm, llama3, qwen2 }

    struct PreTokenizeFixture: Decodable {
        var patterns: [String: String]
        var cases: [PreTokenizeCase]
    }

    struct GGUFMetadata: Decodable {
        var model: String
        var pre: String?
        var tokens: [String]
        var token_types: [Int32]
        var merges: [String]
        var bos_token_id: Int?
        var eos_token_id: Int?
        var unknown_token_id: Int?
        var padding_token_id: Int?
        var add_bos_token: Bool?
        var add_eos_token: Bool?
        var add_space_prefix: Bool?

        var tokenizerData: GGUFTokenizerData {
            GGUFTokenizerData(
                model: model, pre: pre, tokens: tokens, tokenTypes: token_types, merges: merges,
                bosTokenID: bos_token_id, eosTokenID: eos_token_id, unknownTokenID: unknown_token_id,
                paddingTokenID: padding_token_id, addBOS: add_bos_token, addEOS: add_eos_token,
                addSpacePrefix: add_space_prefix)
        }
    }

    /// Reference cases from Hugging Face `tokenizers` (70 strings) plus our extra ones.
    static let smolLM2Cases: [EncodeCase] = {
        let reference = (try? decode(EncodeCases.self, from: "tokenizer_smollm2.json").cases) ?? []
        let extra = (try? decode(EncodeCases.self, from: "tokenizer_smollm2_extra.json").cases) ?? []
        return reference + extra
    }()

    static let smolLM2DecodeCases: [DecodeCase] =
        (try? decode(EncodeCases.self, from: "tokenizer_smollm2_extra.json").decode_cases) ?? []

    static let preTokenizeCases: [PreTokenizeCase] =
        (try? decode(PreTokenizeFixture.self, from: "tokenizer_pretokenize.json").cases) ?? []
}

/// SmolLM2's tokenizer, built once per test process from each fixture.
enum SmolLM2 {
    static let ggufResult = Result { () throws -> Tokenizer in
        let metadata = try Fixtures.decode(Fixtures.GGUFMetadata.self, from: "tokenizer_smollm2_gguf.json")
        return try Tokenizer(gguf: metadata.tokenizerData)
    }
    static let huggingFaceResult = Result { () throws -> Tokenizer in
        try Tokenizer(tokenizerJSON: Fixtures.data("tokenizer_smollm2_hf.json"))
    }

    static func gguf() throws -> Tokenizer { try ggufResult.get() }
    static func huggingFace() throws -> Tokenizer { try huggingFaceResult.get() }

    enum Source: String, CaseIterable, Sendable { case gguf, huggingFace }

    static func tokenizer(_ source: Source) throws -> Tokenizer {
        switch source {
        case .gguf: try gguf()
        case .huggingFace: try huggingFace()
        }
    }
}

/// The scalars of `text`, for exact comparisons: `String ==` uses canonical equivalence, under
/// which "é" equals "e\u{301}", and a tokenizer must not confuse them.
func scalars(_ text: String) -> [Unicode.Scalar] {
    Array(text.unicodeScalars)
}

func scalars(_ pieces: [String]) -> [[Unicode.Scalar]] {
    pieces.map(scalars)
}
