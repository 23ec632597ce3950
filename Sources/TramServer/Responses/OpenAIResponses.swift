import Foundation
import TramEngine

/// The bodies Tram answers with, as OpenAI and vLLM shape them: one envelope for responses and
/// stream chunks (`id`, `object`, `created`, `model`, `choices`, then `prompt_logprobs` and
/// `usage` where they apply), and a choice type per endpoint and mode. Fields OpenAI sends as
/// `null` are encoded as `null`; fields it leaves out are left out (`Optional` of `Optional`
/// marks "present, maybe null").
struct ResponseEnvelope<Choice: Encodable>: Encodable {
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    /// vLLM's request-level `prompt_logprobs` (chat); absent unless asked for.
    var promptLogprobs: OpenAILogprobs.Prompt??
    /// In responses and the final usage chunk; absent from other chunks.
    var usage: Usage?

    init(_ header: OpenAIServer.Header, choices: [Choice], promptLogprobs: OpenAILogprobs.Prompt?? = nil, usage: Usage? = nil) {
        id = header.id
        object = header.object
        created = header.created
        model = header.model
        self.choices = choices
        self.promptLogprobs = promptLogprobs
        self.usage = usage
    }

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, prompt_logprobs, usage }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        if let promptLogprobs { try c.encode(promptLogprobs, forKey: .prompt_logprobs) }
        try c.encodeIfPresent(usage, forKey: .usage)
    }
}

/// A stream's final usage chunk and the responses' `usage`.
struct Usage: Encodable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
    var prompt_tokens_details: Details

    struct Details: Encodable {
        /// Prompt tokens served from the prefix cache.
        var cached_tokens: Int
    }

    init(prompt: Int, completion: Int, cached: Int) {
        prompt_tokens = prompt
        completion_tokens = completion
        total_tokens = prompt + completion
        prompt_tokens_details = Details(cached_tokens: cached)
    }
}

/// `finish_reason` and vLLM's `stop_reason` of a choice.
struct FinishFields {
    var finish: Finish?

    /// "stop", "length", "abort", or null while the choice goes on.
    var reason: String? { finish.map { $0.reason.rawValue } }

    /// The stop string, the stop token id, or null.
    var stopReason: StopReasonValue { StopReasonValue(finish?.stopReason) }
}

/// vLLM's `stop_reason`: a string, an integer, or null.
struct StopReasonValue: Encodable {
    var value: StopReason?

    init(_ value: StopReason?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case let .string(s)?: try c.encode(s)
        case let .tokenID(t)?: try c.encode(t)
        case nil: try c.encodeNil()
        }
    }
}

/// A choice of `/v1/completions`, in a response or a chunk.
struct CompletionChoice: Encodable {
    var index: Int
    var text: String
    var logprobs: OpenAILogprobs.Completion?
    var finish: Finish?
    /// Present (maybe null) only when the request asked for `prompt_logprobs` (responses only).
    var promptLogprobs: OpenAILogprobs.Prompt??

    enum CodingKeys: String, CodingKey { case index, text, logprobs, finish_reason, stop_reason, prompt_logprobs }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let f = FinishFields(finish: finish)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(f.reason, forKey: .finish_reason)
        try c.encode(f.stopReason, forKey: .stop_reason)
        if let promptLogprobs { try c.encode(promptLogprobs, forKey: .prompt_logprobs) }
    }
}

/// A choice of a `/v1/chat/completions` response.
struct ChatChoice: Encodable {
    var index: Int
    /// Null when the choice is only tool calls.
    var content: String?
    var logprobs: OpenAILogprobs.Chat?
    var finish: Finish?
    /// Present when the request offered tools (`[]` when none was called), as vLLM answers.
    var toolCalls: [ToolCallObject]?
    /// With `--reasoning-parser`: the thinking (`.some(nil)` when there was none).
    var reasoning: String?? = nil

    struct Message: Encodable {
        var role = "assistant"
        var content: String?
        var toolCalls: [ToolCallObject]?
        var reasoning: String??

        enum CodingKeys: String, CodingKey { case role, content, tool_calls, reasoning, reasoning_content }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(role, forKey: .role)
            try c.encode(content, forKey: .content)
            try c.encodeIfPresent(toolCalls, forKey: .tool_calls)
            if let reasoning {
                try c.encode(reasoning, forKey: .reasoning)
                try c.encode(reasoning, forKey: .reasoning_content)
            }
        }
    }

    enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason, stop_reason }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let f = FinishFields(finish: finish)
        try c.encode(index, forKey: .index)
        try c.encode(Message(content: content, toolCalls: toolCalls, reasoning: reasoning), forKey: .message)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(ToolCallObject.finishReason(f.reason, called: !(toolCalls ?? []).isEmpty), forKey: .finish_reason)
        try c.encode(f.stopReason, forKey: .stop_reason)
    }
}

/// `message.tool_calls[i]`: `{id, type: "function", function: {name, arguments}}`.
struct ToolCallObject: Encodable {
    var id: String
    var type = "function"
    var function: Function

    struct Function: Encodable {
        var name: String
        var arguments: String
    }

    /// vLLM's ids: `chatcmpl-tool-` and 32 hex digits.
    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return "chatcmpl-tool-" + (0..<32).map { _ in String(g.next() % 16, radix: 16) }.joined()
    }

    /// A choice that called tools and stopped by itself finished with "tool_calls".
    static func finishReason(_ reason: String?, called: Bool) -> String? {
        called && reason == "stop" ? "tool_calls" : reason
    }
}

/// A choice of a chat stream chunk: the first carries the role, later ones text or tool-call
/// deltas; `stop_reason` comes with the finish only.
struct ChatChunkChoice: Encodable {
    var index: Int
    var role: String?
    var content: String?
    var logprobs: OpenAILogprobs.Chat?
    var finish: Finish?
    var toolCalls: [ToolCallDelta]? = nil
    /// Whether the choice has called a tool (its finish is then "tool_calls").
    var calledTools = false
    /// Thinking text (`delta.reasoning` and `delta.reasoning_content`).
    var reasoning: String? = nil

    /// The first chunk of a choice, as OpenAI sends it: the role and empty content.
    static func role(_ index: Int) -> ChatChunkChoice {
        ChatChunkChoice(index: index, role: "assistant", content: "", logprobs: nil, finish: nil)
    }

    /// `delta.tool_calls[i]`: the call's index; its id, type and name in the first delta of a
    /// call; argument text in later ones.
    struct ToolCallDelta: Encodable {
        var index: Int
        var id: String?
        var type: String?
        var function: Function

        struct Function: Encodable {
            var name: String?
            var arguments: String?
        }
    }

    struct Delta: Encodable {
        var role: String?
        var content: String?
        var toolCalls: [ToolCallDelta]?
        var reasoning: String?

        enum CodingKeys: String, CodingKey { case role, content, tool_calls, reasoning, reasoning_content }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(role, forKey: .role)
            try c.encodeIfPresent(content, forKey: .content)
            try c.encodeIfPresent(toolCalls, forKey: .tool_calls)
            try c.encodeIfPresent(reasoning, forKey: .reasoning)
            try c.encodeIfPresent(reasoning, forKey: .reasoning_content)
        }
    }

    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finish_reason, stop_reason }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let f = FinishFields(finish: finish)
        try c.encode(index, forKey: .index)
        try c.encode(Delta(role: role, content: content, toolCalls: toolCalls, reasoning: reasoning), forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(ToolCallObject.finishReason(f.reason, called: calledTools), forKey: .finish_reason)
        if finish != nil { try c.encode(f.stopReason, forKey: .stop_reason) }
    }
}
