package import TramEngine

/// One line of a `tram generate --input` JSONL file: a prompt (text, token ids, or chat
/// messages) and its own sampling fields, spelled as in vLLM's and OpenAI's APIs.
package struct BatchLine: Decodable {
    /// Text or token ids, as in a completions body (one prompt per line).
    package var prompt: PromptInput?
    package var prompt_token_ids: [Int]?
    package var messages: [Message]?
    package var max_tokens: Int?
    package var logprobs: Int?
    // `response_format` / `structured_outputs` are read from the raw line by
    // `InputProcessor.structuredOutput`, as from a server body.
    /// Every other sampling field, read as the server reads it.
    package var sampling: SamplingFields

    package struct Message: Decodable {
        package var role: String
        package var content: String
    }

    enum CodingKeys: String, CodingKey { case prompt, prompt_token_ids, messages, max_tokens, logprobs }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try c.decodeIfPresent(PromptInput.self, forKey: .prompt)
        prompt_token_ids = try c.decodeIfPresent([Int].self, forKey: .prompt_token_ids)
        messages = try c.decodeIfPresent([Message].self, forKey: .messages)
        max_tokens = try c.decodeIfPresent(Int.self, forKey: .max_tokens)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        sampling = try SamplingFields(from: decoder)
    }

    package var priority: Int? { sampling.priority }

    /// Sampling parameters, starting from `defaults` (the command line's) for absent fields.
    package func parameters(defaults: SamplingParameters) throws(EngineError) -> SamplingParameters {
        var p = try sampling.apply(to: defaults)
        if let v = max_tokens { p.maxTokens = v }
        if let v = logprobs { p.logprobs = v }
        return p
    }
}
