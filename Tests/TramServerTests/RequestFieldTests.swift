import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramEngine
import TramModels
import TramServer
import TramTestSupport

/// Request fields beyond the basics: logprobs, echo, prompt_logprobs, chat template controls,
/// generation defaults, and hostile bodies. Part of `OpenAIServerTests` (one model, serialised).
extension OpenAIServerTests {
    static func post(_ client: any TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body))
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:])
    }

    static func firstChoice(_ object: [String: Any]) throws -> [String: Any] {
        try #require((object["choices"] as? [[String: Any]])?.first)
    }

    @Test func completionLogprobsAndEcho() async throws {
        try await withServer { client in
            let (status, object) = try await Self.post(client, "/v1/completions",
                #"{"prompt": "The capital of Germany is", "max_tokens": 3, "temperature": 0, "logprobs": 2, "echo": true}"#)
            #expect(status == .ok)
            let choice = try Self.firstChoice(object)
            let text = try #require(choice["text"] as? String)
            #expect(text.hasPrefix("The capital of Germany is Berlin"))
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(lp["tokens"] as? [String])
            let offsets = try #require(lp["text_offset"] as? [Int])
            let values = try #require(lp["token_logprobs"] as? [Any])
            let tops = try #require(lp["top_logprobs"] as? [Any])
            // 5 prompt tokens echoed, then 3 generated.
            #expect(tokens.count == 8 && offsets.count == 8 && values.count == 8 && tops.count == 8)
            #expect(tokens.joined() == text)
            #expect(values[0] is NSNull && tops[0] is NSNull, "the first prompt token has no logprob")
            for i in 1..<8 {
                #expect(offsets[i] == offsets[i - 1] + tokens[i - 1].count)
                let value = try #require(values[i] as? Double)
                #expect(value <= 0)
                let top = try #require(tops[i] as? [String: Double])
                #expect(top[tokens[i]] == value && (2...3).contains(top.count))
                if i >= 5 { #expect(top.values.max() == value, "greedy picks the most likely token") }
            }
        }
    }

    @Test func promptLogprobsAndChatLogprobs() async throws {
        try await withServer { client in
            var (status, object) = try await Self.post(client, "/v1/completions",
                #"{"prompt": "Hello world", "max_tokens": 1, "prompt_logprobs": 1}"#)
            #expect(status == .ok)
            let prompt = try #require(try Self.firstChoice(object)["prompt_logprobs"] as? [Any])
            #expect(prompt.count == 2 && prompt[0] is NSNull)
            let second = try #require(prompt[1] as? [String: [String: Any]])
            let world = try #require(second["905"], "the actual prompt token is listed")
            #expect((world["decoded_token"] as? String) == " world" && (world["rank"] as? Int ?? 0) >= 1)

            (status, object) = try await Self.post(client, "/v1/completions", #"{"prompt": "Hi", "prompt_logprobs": 1, "stream": true}"#)
            #expect(status == .badRequest)

            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0, "logprobs": true, "top_logprobs": 2}"#)
            #expect(status == .ok)
            let choice = try Self.firstChoice(object)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            let message = try #require((choice["message"] as? [String: Any])?["content"] as? String)
            #expect(content.count == 4)
            #expect(content.compactMap { $0["token"] as? String }.joined() == message)
            for position in content {
                let token = try #require(position["token"] as? String)
                #expect(position["bytes"] as? [Int] == Array(token.utf8).map(Int.init))
                let top = try #require(position["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 2 && top[0]["token"] as? String == token)
                #expect((top[0]["logprob"] as? Double ?? 1) >= (top[1]["logprob"] as? Double ?? 0))
            }
            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Hi"}], "top_logprobs": 2}"#)
            #expect(status == .badRequest, "top_logprobs needs logprobs: true")
        }
    }

    @Test func chatTemplateControls() async throws {
        try await withServer { client in
            // continue_final_message: the prompt ends inside the assistant's message.
            var (status, object) = try await Self.post(client, "/tokenize",
                #"{"messages": [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "The color is"}], "add_generation_prompt": false, "continue_final_message": true}"#)
            #expect(status == .ok)
            let tokens = try #require(object["tokens"] as? [Int])
            (status, object) = try await Self.post(client, "/detokenize", #"{"tokens": \#(tokens)}"#)
            let text = try #require(object["prompt"] as? String)
            #expect(text.hasSuffix("<|im_start|>assistant\nThe color is"), "\(text)")
            #expect(text.hasPrefix("<|im_start|>system"), "chat prompts get no extra BOS: the template writes its own tokens")

            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hel"}], "continue_final_message": true, "add_generation_prompt": true}"#)
            #expect(status == .badRequest)

            // chat_template_kwargs the template does not read are accepted (see the override test
            // for kwargs that it does read); a non-object is refused.
            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "chat_template_kwargs": {"enable_thinking": false}}"#)
            #expect(status == .ok)
            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": [1]}"#)
            #expect(status == .badRequest)
        }
    }

    @Test func chatTemplateOverrideAndVariables() async throws {
        let template = #"{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m.name | default('-') }}]{% endfor %}{% if flavour %}<{{ flavour }}>{% endif %}{% if tools %}{{ tools | length }} tools{% endif %}{% if add_generation_prompt %}=>{% endif %}"#
        try await withServer(configure: { $0.chatTemplate = template }) { client in
            let (status, object) = try await Self.post(client, "/tokenize",
                #"{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}], "name": "ann"}], "chat_template_kwargs": {"flavour": "mint"}, "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}"#)
            #expect(status == .ok)
            let tokens = try #require(object["tokens"] as? [Int])
            let (_, decoded) = try await Self.post(client, "/detokenize", #"{"tokens": \#(tokens)}"#)
            #expect(decoded["prompt"] as? String == "[user|a\nb|ann]<mint>1 tools=>")
        }
        let raising = #"{{ raise_exception('Conversation roles must alternate') }}"#
        try await withServer(configure: { $0.chatTemplate = raising }) { client in
            let (status, object) = try await Self.post(client, "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
            #expect(status == .badRequest)
            #expect(((object["error"] as? [String: Any])?["message"] as? String)?.contains("Conversation roles must alternate") == true)
        }
    }

    @Test func generationConfigDefaults() async throws {
        // The model's defaults fill what the request leaves out; the request wins; max_new_tokens caps.
        let defaults = GenerationDefaults(temperature: 0, topK: 5, maxNewTokens: 3)
        try await withServer(configure: { $0.generationConfig = .custom(defaults) }) { client in
            var (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Write a long poem."}]}"#)
            #expect(status == .ok)
            #expect(usageCounts(object)?["completion_tokens"] == 3)
            #expect(try Self.firstChoice(object)["finish_reason"] as? String == "length")
            let first = try #require((try Self.firstChoice(object)["message"] as? [String: Any])?["content"] as? String)
            (status, object) = try await Self.post(client, "/v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Write a long poem."}]}"#)
            #expect((try Self.firstChoice(object)["message"] as? [String: Any])?["content"] as? String == first, "temperature 0 from the defaults")
            (status, object) = try await Self.post(client, "/v1/completions", #"{"prompt": "Once", "max_tokens": 10}"#)
            #expect(usageCounts(object)?["completion_tokens"] == 3)
        }
    }

    @Test func hostileBodies() async throws {
        try await withServer(configure: { $0.maxRequestBytes = 4096 }) { client in
            var invalidUTF8 = ByteBuffer(string: #"{"prompt": ""#)
            invalidUTF8.writeBytes([0xC3, 0x28, 0xFF])
            invalidUTF8.writeString(#""}"#)
            let cases: [(ByteBuffer, String)] = [
                (invalidUTF8, "invalid UTF-8"),
                (ByteBuffer(string: #"{"prompt": "\#(String(repeating: "x", count: 10000))"}"#), "over the size limit"),
                (ByteBuffer(string: ""), "empty body"),
                (ByteBuffer(string: "[1, 2]"), "not an object"),
                (ByteBuffer(string: #"{"prompt": "x", "max_tokens": "ten"}"#), "wrong type"),
                (ByteBuffer(string: #"{"prompt": "x", "temperature": 2.5}"#), "temperature over 2"),
                (ByteBuffer(string: #"{"prompt": "x", "logprobs": 50}"#), "too many logprobs"),
                (ByteBuffer(string: #"{"prompt": "x", "max_tokens": 99999999999999999999}"#), "number too large"),
            ]
            for (body, name) in cases {
                try await client.execute(uri: "/v1/completions", method: .post, body: body) { response in
                    #expect(response.status == .badRequest, "\(name)")
                    let error = try? Self.object(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? Int == 400, "\(name)")
                }
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: invalidUTF8) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": "Hello", "max_tokens": 2}"#)) {
                #expect($0.status == .ok)
            }
        }
    }
}
