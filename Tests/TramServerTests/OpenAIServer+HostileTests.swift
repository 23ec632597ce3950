import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramChat
import TramEngine
import TramInput
import TramModels
import TramServer
import TramTestSupport
import TramTokenizer

/// What an attacker or a careless client sends: sizes that would allocate without bound, numbers
/// that do not fit their type, and paths that once walked past the API key. Each answer is a 400
/// naming the field (or the 401/404/405 the route deserves), never a crash or a 200.
extension OpenAIServerTests {
    static func error(_ object: [String: Any]) -> (message: String, param: String?, type: String?) {
        let e = object["error"] as? [String: Any] ?? [:]
        return (e["message"] as? String ?? "", e["param"] as? String, e["type"] as? String)
    }

    /// `n` once sized an array before any check: 10^12 aborted the process, 2^62 crashed it.
    @Test func hugeNIsRefusedNamingTheField() async throws {
        try await withServer { client in
            for n in ["1000000000000", "4611686018427387904", "129", "100000"] {
                for (uri, prompt) in [("/v1/completions", #""prompt": "Hello""#), ("/v1/chat/completions", #""messages": [{"role": "user", "content": "Hi"}]"#)] {
                    let (status, object) = try await Self.post(client, uri, #"{"model": "smol", \#(prompt), "max_tokens": 2, "n": \#(n)}"#)
                    #expect(status == .badRequest, "\(uri) n=\(n)")
                    #expect(Self.error(object).param == "n", "\(uri) n=\(n): \(Self.error(object).message)")
                }
            }
            // The cap itself is accepted.
            let (status, object) = try await Self.post(client, "/v1/completions", #"{"prompt": "Hi", "max_tokens": 1, "n": 128}"#)
            #expect(status == .ok)
            #expect((object["choices"] as? [Any])?.count == 128)
        }
    }

    @Test func requestSizesOverTheirLimitsAreRefused() async throws {
        try await withServer { client in
            let manyPrompts = "[" + Array(repeating: #""a""#, count: 129).joined(separator: ",") + "]"
            let manyStops = "[" + (0..<65).map { "\"s\($0)\"" }.joined(separator: ",") + "]"
            let manyBiases = "{" + (0..<1025).map { "\"\($0)\": 1" }.joined(separator: ",") + "}"
            let manyStopIDs = "[" + (0..<1025).map(String.init).joined(separator: ",") + "]"
            // 4 prompts of 450 tokens each: every one fits max_model_len 512, together they exceed
            // the 32 MiB cache (1,456 tokens).
            let longPrompt = "[" + Array(repeating: "1", count: 450).joined(separator: ",") + "]"
            let longPrompts = "[" + Array(repeating: longPrompt, count: 4).joined(separator: ",") + "]"
            let cases: [(String, String, String)] = [
                ("/v1/completions", #"{"prompt": \#(manyPrompts), "max_tokens": 1}"#, "prompt"),
                ("/v1/completions", #"{"prompt": ["a", "b", "c"], "max_tokens": 1, "n": 100}"#, "n"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "stop": \#(manyStops)}"#, "stop"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "logit_bias": \#(manyBiases)}"#, "logit_bias"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "stop_token_ids": \#(manyStopIDs)}"#, "stop_token_ids"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "logprobs": 21}"#, "logprobs"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "prompt_logprobs": 21}"#, "prompt_logprobs"),
                ("/v1/completions", #"{"prompt": \#(longPrompts), "max_tokens": 1}"#, "prompt"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "a"}], "logprobs": true, "top_logprobs": 21}"#, "top_logprobs"),
            ]
            for (uri, body, param) in cases {
                let (status, object) = try await Self.post(client, uri, body)
                #expect(status == .badRequest, "\(param): \(status)")
                #expect(Self.error(object).param == param, "\(param): \(Self.error(object).message)")
            }
            // The long prompts' message says why.
            let (_, object) = try await Self.post(client, "/v1/completions", #"{"prompt": \#(longPrompts), "max_tokens": 1}"#)
            #expect(Self.error(object).message.contains("1800 tokens"))
        }
    }

    /// Foundation's decoder reports a number that does not fit its field as "not valid JSON".
    @Test func numbersThatDoNotFitTheirTypeNameTheField() async throws {
        try await withServer { client in
            for (field, value) in [("n", "8.5"), ("seed", "18446744073709551615"), ("max_tokens", "1.5"), ("top_k", "-9223372036854775809")] {
                let (status, object) = try await Self.post(client, "/v1/completions", #"{"prompt": "a", "\#(field)": \#(value)}"#)
                #expect(status == .badRequest)
                #expect(Self.error(object).param == field, "\(field): \(Self.error(object).message)")
                #expect(Self.error(object).message.contains(field))
            }
            // Still plain malformed JSON when it is.
            let (status, object) = try await Self.post(client, "/v1/completions", #"{"prompt": "a", "n": }"#)
            #expect(status == .badRequest && Self.error(object).message == "the body is not valid JSON")
        }
    }

    /// Every spelling of a `/v1` path reaches the key check; none answers without the key.
    @Test func everySpellingOfAV1PathNeedsTheKey() async throws {
        try await withServer(apiKeys: ["s3cret"]) { client in
            let key: HTTPFields = [.authorization: "Bearer s3cret"]
            for path in ["/v1/models", "//v1/models", "///v1/models", "/./v1/models", "/x/../v1/models", "/v1//models", "/v1/./models", "/v1/models/"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .unauthorized, "\(path)") }
                try await client.execute(uri: path, method: .get, headers: key) { #expect($0.status == .ok, "\(path)") }
            }
            let completion = ByteBuffer(string: #"{"prompt": "Hi", "max_tokens": 1}"#)
            let chat = ByteBuffer(string: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}"#)
            for path in ["//v1/completions", "///v1/completions", "/v1//completions"] {
                try await client.execute(uri: path, method: .post, body: completion) { #expect($0.status == .unauthorized, "\(path)") }
                try await client.execute(uri: path, method: .post, headers: key, body: completion) { #expect($0.status == .ok, "\(path)") }
            }
            for path in ["//v1/chat/completions", "/v1/chat//completions"] {
                try await client.execute(uri: path, method: .post, body: chat) { #expect($0.status == .unauthorized, "\(path)") }
            }
            // Encoded separators and dots, and climbing above the root: 400, key or not.
            for path in ["/v1%2Fmodels", "/v1%2fmodels", "/%2E%2E/v1/models", "/v1/%2e/models", "/v1%5Cmodels", "/../v1/models"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .badRequest, "\(path)") }
            }
            // HEAD and OPTIONS on /v1 routes: 405, never the resource.
            for method in [HTTPRequest.Method.head, .options] {
                try await client.execute(uri: "/v1/models", method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method)")
                    #expect(response.headers[.allow] == "GET")
                }
            }
            // Open routes stay open.
            try await client.execute(uri: "//health", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func unknownRoutesAndMethodsGetOpenAIErrors() async throws {
        try await withServer { client in
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                let object = try Self.object(response.body)
                #expect(Self.error(object).type == "NotFoundError" && Self.error(object).message.contains("/v1/nothing"))
                #expect((object["error"] as? [String: Any])?["code"] as? Int == 404)
            }
            try await client.execute(uri: "/v1/completions", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                let object = try Self.object(response.body)
                #expect(Self.error(object).type == "MethodNotAllowedError")
                #expect((object["error"] as? [String: Any])?["code"] as? Int == 405)
            }
        }
    }
}

extension OpenAIServerTests {
    /// A chat template that does not parse is reported for a start-up warning (`tram serve`
    /// logs it), and chat requests get a 400 naming it; completions still work.
    @Test func aBrokenChatTemplateIsReportedAtStartUp() async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 512, kvCacheMemory: 32 << 20, threads: 2))
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        let broken = OpenAIServer(model: model, engine: loop, maxModelLen: 512,
                                  configuration: ServerConfiguration(servedModelNames: ["smol"], chatTemplate: "{% for m in messages %}{{ m.content }"))
        let problem = try #require(broken.chatTemplateProblem)
        #expect(!problem.isEmpty)
        let fine = OpenAIServer(model: model, engine: loop, maxModelLen: 512, configuration: ServerConfiguration(servedModelNames: ["smol"]))
        #expect(fine.chatTemplateProblem == nil)
        try await Application(router: broken.makeRouter()).test(.router) { client in
            let (status, object) = try await Self.post(client, "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
            #expect(status == .badRequest && Self.error(object).param == "messages")
            let (ok, _) = try await Self.post(client, "/v1/completions", #"{"prompt": "Hi", "max_tokens": 1}"#)
            #expect(ok == .ok)
        }
    }
}

extension OpenAIServerTests {
    /// Fields asking for what Tram does not do yet are refused, naming the field, instead of
    /// being silently ignored.
    @Test func unsupportedFieldsAreRefusedNamingThem() async throws {
        try await withServer { client in
            let chat = #""messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1"#
            let tools = #""tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]"#
            let cases: [(String, String, String)] = [
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "stream_options": {"include_usage": true}}"#, "stream_options"),
                ("/v1/chat/completions", #"{\#(chat), "stream": false, "stream_options": {"include_usage": true}}"#, "stream_options"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "response_format": {"type": "xml"}}"#, "response_format.type"),
                ("/v1/chat/completions", #"{\#(chat), "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}"#, "response_format.json_schema.schema"),
                ("/v1/chat/completions", #"{\#(chat), \#(tools)}"#, "tool_choice"),
                ("/v1/chat/completions", #"{\#(chat), \#(tools), "tool_choice": "auto"}"#, "tool_choice"),
                ("/v1/chat/completions", #"{\#(chat), \#(tools), "tool_choice": {"type": "function", "function": {"name": "g"}}}"#, "tool_choice"),
                ("/v1/chat/completions", #"{\#(chat), "tool_choice": "required"}"#, "tool_choice"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 1, "guided_json": {"type": "object"}}"#, "guided_json"),
                ("/v1/chat/completions", #"{\#(chat), \#(tools), "tool_choice": "required", "response_format": {"type": "json_object"}}"#, "tool_choice"),
            ]
            for (uri, body, param) in cases {
                let (status, object) = try await Self.post(client, uri, body)
                #expect(status == .badRequest, "\(body)")
                #expect(Self.error(object).param == param, "\(body): \(Self.error(object).message)")
            }
            #expect(Self.error(try await Self.post(client, "/v1/completions", cases[0].1).1).message == "Stream options can only be defined when `stream=True`.")
            // What is supported still works: text format, tools with tool_choice none, required or
            // named (enforced by the grammar engine: no tool parser needed), stream_options with stream.
            for body in [#"{\#(chat), "response_format": {"type": "text"}}"#, #"{\#(chat), \#(tools), "tool_choice": "none"}"#,
                         #"{\#(chat), \#(tools), "tool_choice": "required"}"#,
                         #"{\#(chat), \#(tools), "tool_choice": {"type": "function", "function": {"name": "f"}}}"#,
                         #"{\#(chat), "stream": true, "stream_options": {"include_usage": true}}"#] {
                let (status, _) = try await Self.post(client, "/v1/chat/completions", body)
                #expect(status == .ok, "\(body)")
            }
        }
    }

    /// `usage.prompt_tokens_details.cached_tokens` counts prompt tokens served from the prefix
    /// cache, in plain and streamed responses.
    @Test func usageReportsCachedPromptTokens() async throws {
        try await withServer { client in
            let prompt = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 8)
            func cached(_ object: [String: Any]) -> Int? {
                ((object["usage"] as? [String: Any])?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
            }
            let body = #"{"prompt": "\#(prompt)", "max_tokens": 1}"#
            let (_, first) = try await Self.post(client, "/v1/completions", body)
            #expect(cached(first) == 0)
            let (_, second) = try await Self.post(client, "/v1/completions", body)
            let promptTokens = try #require((second["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            let hit = try #require(cached(second))
            // Every full 16-token block but the one holding the last prompt token.
            #expect(hit == (promptTokens - 1) / 16 * 16 && hit > 0, "\(hit) of \(promptTokens)")
            let streamed = try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string:
                #"{"prompt": "\#(prompt)", "max_tokens": 1, "stream": true, "stream_options": {"include_usage": true}}"#))
            let text = String(buffer: streamed.body)
            #expect(text.contains(#""cached_tokens":\#(hit)"#), "\(text.suffix(300))")
        }
    }
}

extension OpenAIServerTests {
    /// The input processor is the one place a body is judged: called directly it gives what the
    /// HTTP layer answers, the same refusals with the same `param`, and for a good body the
    /// request the engine receives (defaults applied, prompt tokenized, max_tokens resolved).
    @Test func theInputProcessorJudgesBodiesAsTheServerDoes() async throws {
        let model = try Self.model.get()
        let tokenizer = model.tokenizer
        let template = Result { () throws(ChatTemplateError) in try ChatTemplate(source: model.chatTemplate ?? "") }
        let processor = InputProcessor(tokenizer: tokenizer, chatTemplate: template, vocabularySize: model.model.vocabularySize,
                                       maxModelLen: 512, limits: RequestLimits(maxTotalPromptTokens: 1456), defaults: GenerationDefaults(),
                                       eosTokenIDs: model.eosTokenIDs)
        let good = try processor.completion(Data(#"{"prompt": "Hello world", "temperature": 0}"#.utf8)) { _ in }
        #expect(good.prompts == [[19556, 905]] && good.parameters.maxTokens == 16 && good.parameters.temperature == 0)
        let chat = try processor.chat(Data(#"{"messages": [{"role": "user", "content": "Hi"}]}"#.utf8)) { _ in }
        #expect(chat.prompt == tokenizer.encode(chat.text, addSpecialTokens: false))
        #expect(chat.parameters.maxTokens == 512 - chat.prompt.count, "chat without max_tokens may fill the context")

        // A `tram generate --input` line and an HTTP body alike: the same engine request, and
        // the same refusals.
        let body = #"{"prompt": "Hello world", "max_tokens": 3, "temperature": 0.5, "stop": ["x"], "seed": 7, "n": 2}"#
        let line = try processor.batchLine(Data(body.utf8), base: SamplingParameters())
        let http = try processor.completion(Data(body.utf8)) { _ in }
        #expect(line.request.promptTokenIDs == http.prompts[0] && line.request.parameters == http.parameters)
        for bad in [#"{"prompt": "a", "n": 8.5}"#, #"{"prompt": "a", "n": 1000}"#, #"{"prompt": [99999999]}"#, #"{"prompt": "a", "max_tokens": 600}"#,
                    #"{"prompt": "a", "logprobs": 21}"#, #"{"prompt": "a", "stop": [1]}"#,
                    #"{"prompt": "a", "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "strin"}}}}"#] {
            var errors: [InputError?] = [nil, nil]
            do { _ = try processor.batchLine(Data(bad.utf8), base: SamplingParameters()) } catch let e as InputError { errors[0] = e }
            do { _ = try processor.completion(Data(bad.utf8)) { _ in } } catch let e as InputError { errors[1] = e }
            #expect(errors[0] != nil && errors[0] == errors[1], "\(bad): \(String(describing: errors))")
        }

        let bad: [(String, String)] = [
            ("/v1/completions", #"{"prompt": "a", "n": 1000000000000}"#), ("/v1/completions", #"{"prompt": "a", "n": 8.5}"#),
            ("/v1/completions", #"{"prompt": "a", "temperature": 9}"#), ("/v1/completions", #"{"prompt": []}"#),
            ("/v1/completions", #"{"prompt": [99999999]}"#), ("/v1/completions", #"{"prompt": "a", "max_tokens": 600}"#),
            ("/v1/completions", #"{"prompt": "a", "stream_options": {}}"#), ("/v1/completions", #"{"prompt": 5}"#),
            ("/v1/chat/completions", #"{"messages": []}"#), ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "a"}], "top_logprobs": 2}"#),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "a"}], "tools": [{}]}"#),
        ]
        try await withServer { client in
            for (path, body) in bad {
                var direct: InputError?
                do {
                    if path == "/v1/completions" { _ = try processor.completion(Data(body.utf8)) { _ in } } else { _ = try processor.chat(Data(body.utf8)) { _ in } }
                } catch let e as InputError { direct = e }
                let refusal = try #require(direct, "\(body) was accepted")
                let (status, object) = try await Self.post(client, path, body)
                #expect(status == .badRequest)
                #expect(Self.error(object).param == refusal.param && Self.error(object).message == refusal.message, "\(body)")
            }
        }
    }
}
