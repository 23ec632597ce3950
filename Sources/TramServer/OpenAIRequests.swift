import Foundation
import TramEngine
import TramModels

/// `prompt` of /v1/completions: a string, a list of strings, token ids, or a list of token-id lists.
enum PromptInput: Decodable {
    case texts([String])
    case tokens([[Int]])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .texts([s])
        } else if let l = try? c.decode([String].self) {
            self = .texts(l)
        } else if let t = try? c.decode([Int].self) {
            self = .tokens([t])
        } else if let tt = try? c.decode([[Int]].self) {
            self = .tokens(tt)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "prompt must be a string, a list of strings, a list of token ids or a list of token-id lists")
        }
    }
}

/// `stop`: one string or a list.
struct StopInput: Decodable {
    var values: [String]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { values = [s] } else { values = try c.decode([String].self) }
    }
}

struct StreamOptions: Decodable {
    var include_usage: Bool?
}

/// Sampling fields shared by both endpoints: OpenAI's plus vLLM's extras. Unknown fields are ignored.
struct SamplingFields: Decodable {
    var temperature: Double?
    var top_p: Double?
    var n: Int?
    var stop: StopInput?
    var seed: Int?
    var presence_penalty: Double?
    var frequency_penalty: Double?
    var logit_bias: [String: Double]?
    var top_k: Int?
    var min_p: Double?
    var repetition_penalty: Double?
    var ignore_eos: Bool?
    var min_tokens: Int?
    var stop_token_ids: [Int]?
    var skip_special_tokens: Bool?
    var include_stop_str_in_output: Bool?
    var priority: Int?
    var prompt_logprobs: Int?

    /// The engine's parameters; fields the request leaves out come from `defaults` (the model's
    /// `generation_config.json` under `--generation-config auto`), then from vLLM's defaults.
    func parameters(maxTokens: Int?, defaults: GenerationDefaults = GenerationDefaults()) throws(ServerError) -> SamplingParameters {
        if let t = temperature, !(0...2).contains(t) {
            throw .badRequest("temperature must be in [0, 2], got \(t).", param: "temperature")
        }
        var p = SamplingParameters(temperature: temperature ?? defaults.temperature ?? 1, topP: top_p ?? defaults.topP ?? 1,
                                   topK: top_k ?? defaults.topK, maxTokens: maxTokens)
        // The model's max_new_tokens caps max_tokens, as in vLLM.
        if let cap = defaults.maxNewTokens { p.maxTokens = min(maxTokens ?? cap, cap) }
        p.n = n ?? 1
        if let s = seed {
            guard let v = UInt64(exactly: s < 0 ? -s : s) else { throw .badRequest("seed is out of range", param: "seed") }
            p.seed = v
        }
        p.stop = stop?.values ?? []
        p.presencePenalty = presence_penalty ?? 0
        p.frequencyPenalty = frequency_penalty ?? 0
        p.repetitionPenalty = repetition_penalty ?? defaults.repetitionPenalty ?? 1
        p.minP = min_p ?? defaults.minP ?? 0
        p.promptLogprobs = prompt_logprobs
        p.ignoreEOS = ignore_eos ?? false
        p.minTokens = min_tokens ?? 0
        p.stopTokenIDs = stop_token_ids ?? []
        p.skipSpecialTokens = skip_special_tokens ?? true
        p.includeStopStrInOutput = include_stop_str_in_output ?? false
        if let bias = logit_bias {
            var b: [Int: Float] = [:]
            for (k, v) in bias {
                guard let id = Int(k) else { throw .badRequest("logit_bias keys must be token ids, got '\(k)'", param: "logit_bias") }
                b[id] = Float(v)
            }
            p.logitBias = b
        }
        return p
    }
}

struct CompletionRequest: Decodable {
    var model: String?
    var prompt: PromptInput
    var max_tokens: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var echo: Bool?
    /// Alternatives per position (0 gives only the chosen token's logprob).
    var logprobs: Int?
}

struct ChatCompletionRequest: Decodable {
    struct Message: Decodable {
        var role: String
        var content: Content?

        /// A string, or a list of parts of which the text ones are joined.
        enum Content: Decodable {
            case text(String)
            case parts([Part])
            struct Part: Decodable {
                var type: String
                var text: String?
            }

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .parts(try c.decode([Part].self)) }
            }

            var text: String {
                switch self {
                case let .text(s): s
                case let .parts(parts): parts.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
                }
            }
        }
    }

    var model: String?
    var messages: [Message]
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var add_generation_prompt: Bool?
    var continue_final_message: Bool?
    var add_special_tokens: Bool?
    var logprobs: Bool?
    var top_logprobs: Int?
}

struct TokenizeRequest: Decodable {
    var model: String?
    var prompt: String?
    var messages: [ChatCompletionRequest.Message]?
    var add_special_tokens: Bool?
    var add_generation_prompt: Bool?
    var continue_final_message: Bool?
}

struct DetokenizeRequest: Decodable {
    var model: String?
    var tokens: [Int]
}
