import Foundation
import TramEngine

/// One line of a `tram generate --input` JSONL file: a prompt (text, token ids, or chat
/// messages) and its own sampling fields, spelled as in vLLM's and OpenAI's APIs.
struct BatchLine: Decodable {
    var prompt: String?
    var prompt_token_ids: [Int]?
    var messages: [Message]?
    var max_tokens: Int?
    var temperature: Double?
    var top_p: Double?
    var top_k: Int?
    var min_p: Double?
    var presence_penalty: Double?
    var frequency_penalty: Double?
    var repetition_penalty: Double?
    var seed: UInt64?
    var n: Int?
    var stop: StringOrList?
    var stop_token_ids: [Int]?
    var ignore_eos: Bool?
    var min_tokens: Int?
    var logprobs: Int?
    var prompt_logprobs: Int?
    var skip_special_tokens: Bool?
    var include_stop_str_in_output: Bool?
    var priority: Int?

    struct Message: Decodable {
        var role: String
        var content: String
    }

    /// `stop` may be one string or a list.
    struct StringOrList: Decodable {
        var values: [String]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { values = [s] } else { values = try c.decode([String].self) }
        }
    }

    /// Sampling parameters, starting from `defaults` (the command line's) for absent fields.
    func parameters(defaults: SamplingParameters) -> SamplingParameters {
        var p = defaults
        if let v = max_tokens { p.maxTokens = v }
        if let v = temperature { p.temperature = v }
        if let v = top_p { p.topP = v }
        if let v = top_k { p.topK = v }
        if let v = min_p { p.minP = v }
        if let v = presence_penalty { p.presencePenalty = v }
        if let v = frequency_penalty { p.frequencyPenalty = v }
        if let v = repetition_penalty { p.repetitionPenalty = v }
        if let v = seed { p.seed = v }
        if let v = n { p.n = v }
        if let v = stop { p.stop = v.values }
        if let v = stop_token_ids { p.stopTokenIDs = v }
        if let v = ignore_eos { p.ignoreEOS = v }
        if let v = min_tokens { p.minTokens = v }
        if let v = logprobs { p.logprobs = v }
        if let v = prompt_logprobs { p.promptLogprobs = v }
        if let v = skip_special_tokens { p.skipSpecialTokens = v }
        if let v = include_stop_str_in_output { p.includeStopStrInOutput = v }
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
