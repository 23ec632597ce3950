import Foundation
package import TramEngine
package import TramModels

/// `prompt` of /v1/completions: a string, a list of strings, token ids, or a list of token-id lists.
package enum PromptInput: Decodable {
    case texts([String])
    case tokens([[Int]])

    /// How many prompts the request holds.
    package var count: Int {
        switch self {
        case let .texts(t): t.count
        case let .tokens(t): t.count
        }
    }

    package init(from decoder: any Decoder) throws {
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

package struct StreamOptions: Decodable {
    package var include_usage: Bool?
}

extension SamplingFields {
    /// The engine's parameters for a request body; fields it leaves out come from `defaults`
    /// (the model's `generation_config.json` under `--generation-config auto`), then from
    /// vLLM's defaults.
    package func parameters(maxTokens: Int?, defaults: GenerationDefaults = GenerationDefaults()) throws -> SamplingParameters {
        if let t = temperature, !(0...2).contains(t) {
            throw InputError("temperature must be in [0, 2], got \(t).", param: "temperature")
        }
        var base = SamplingParameters(temperature: defaults.temperature ?? 1, topP: defaults.topP ?? 1, topK: defaults.topK,
                                      minP: defaults.minP ?? 0, repetitionPenalty: defaults.repetitionPenalty ?? 1, maxTokens: maxTokens)
        // The model's max_new_tokens caps max_tokens, as in vLLM.
        if let cap = defaults.maxNewTokens { base.maxTokens = min(maxTokens ?? cap, cap) }
        return try apply(to: base)
    }
}

package struct CompletionRequest: Decodable {
    package var model: String?
    package var prompt: PromptInput
    package var max_tokens: Int?
    package var stream: Bool?
    package var stream_options: StreamOptions?
    package var echo: Bool?
    /// Alternatives per position (0 gives only the chosen token's logprob).
    package var logprobs: Int?
}

package struct ChatCompletionRequest: Decodable {
    package struct Message: Decodable {
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

    package var model: String?
    package var messages: [Message]
    package var max_tokens: Int?
    package var max_completion_tokens: Int?
    package var stream: Bool?
    package var stream_options: StreamOptions?
    package var add_generation_prompt: Bool?
    package var continue_final_message: Bool?
    package var add_special_tokens: Bool?
    package var logprobs: Bool?
    package var top_logprobs: Int?
    // `tools`, `tool_choice`, `parallel_tool_calls`: `ToolRequest.parse` reads them.
}

package struct TokenizeRequest: Decodable {
    package var model: String?
    package var prompt: String?
    package var messages: [ChatCompletionRequest.Message]?
    package var add_special_tokens: Bool?
    package var add_generation_prompt: Bool?
    package var continue_final_message: Bool?
}

package struct DetokenizeRequest: Decodable {
    package var model: String?
    package var tokens: [Int]
}
