import Foundation
import TramEngine
import TramInput

/// One line of a `tram generate --input` JSONL file: a prompt (text, token ids, or chat
/// messages) and its own sampling fields, spelled as in vLLM's and OpenAI's APIs.
struct BatchLine: Decodable {
    var prompt: String?
    var prompt_token_ids: [Int]?
    var messages: [Message]?
    var max_tokens: Int?
    var logprobs: Int?
    /// Every other sampling field, read as the server reads it.
    var sampling: SamplingFields

    struct Message: Decodable {
        var role: String
        var content: String
    }

    enum CodingKeys: String, CodingKey { case prompt, prompt_token_ids, messages, max_tokens, logprobs }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try c.decodeIfPresent(String.self, forKey: .prompt)
        prompt_token_ids = try c.decodeIfPresent([Int].self, forKey: .prompt_token_ids)
        messages = try c.decodeIfPresent([Message].self, forKey: .messages)
        max_tokens = try c.decodeIfPresent(Int.self, forKey: .max_tokens)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        sampling = try SamplingFields(from: decoder)
    }

    var priority: Int? { sampling.priority }

    /// Sampling parameters, starting from `defaults` (the command line's) for absent fields.
    func parameters(defaults: SamplingParameters) throws(EngineError) -> SamplingParameters {
        var p = try sampling.apply(to: defaults)
        if let v = max_tokens { p.maxTokens = v }
        if let v = logprobs { p.logprobs = v }
        return p
    }
}

/// One line of the output file.
struct BatchResult: Encodable {
    struct Completion: Encodable {
        var index: Int
        var text: String
        var token_ids: [Int]
        var finish_reason: String
        var stop_reason: StopValue?
        var logprobs: [Logprob]?
    }

    struct Logprob: Encodable {
        var token_id: Int
        var logprob: Float
        var rank: Int
        var top: [[String: Float]]
    }

    /// vLLM's `stop_reason`: the matched stop string, or the stop token id.
    enum StopValue: Encodable {
        case string(String), token(Int)
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .string(s): try c.encode(s)
            case let .token(t): try c.encode(t)
            }
        }
    }

    var line: Int
    var prompt: String?
    var prompt_token_count: Int
    var outputs: [Completion]
    var error: String?
}
