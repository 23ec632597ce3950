import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramEngine
import TramModels
import TramServer
import TramTestSupport

/// A response's `usage` token counts (`prompt_tokens_details` left out).
func usageCounts(_ object: [String: Any]?) -> [String: Int]? {
    (object?["usage"] as? [String: Any])?.compactMapValues { $0 as? Int }
}

/// The HTTP surface with the real model behind it.
@Suite(.serialized) struct OpenAIServerTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    func withServer(apiKeys: [String] = [], configure: (inout ServerConfiguration) -> Void = { _ in },
                    _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 512, kvCacheMemory: 32 << 20, threads: 2))
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        var configuration = ServerConfiguration(servedModelNames: ["smol"], apiKeys: apiKeys)
        configure(&configuration)
        let server = OpenAIServer(model: model, engine: loop, maxModelLen: 512, configuration: configuration, limits: core.requestLimits)
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in try await body(client) }
    }

    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func healthModelsAndTokenize() async throws {
        try await withServer { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let list = try Self.object(response.body)
                let data = try #require(list["data"] as? [[String: Any]])
                #expect(data.first?["id"] as? String == "smol")
                #expect(data.first?["max_model_len"] as? Int == 512)
            }
            try await client.execute(uri: "/tokenize", method: .post, body: ByteBuffer(string: #"{"prompt": "Hello world"}"#)) { response in
                let object = try Self.object(response.body)
                #expect(object["tokens"] as? [Int] == [19556, 905])
            }
            try await client.execute(uri: "/detokenize", method: .post, body: ByteBuffer(string: #"{"tokens": [19556, 905]}"#)) { response in
                let object = try Self.object(response.body)
                #expect(object["prompt"] as? String == "Hello world")
            }
        }
    }

    @Test func chatCompletionAnswers() async throws {
        try await withServer { client in
            let body = #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of Germany?"}], "temperature": 0}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response.body)
                #expect(object["object"] as? String == "chat.completion")
                #expect((object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                let message = try #require(choice["message"] as? [String: Any])
                #expect(message["content"] as? String == "The capital of Germany is Berlin.")
                #expect(choice["finish_reason"] as? String == "stop")
                let usage = try #require(usageCounts(object))
                #expect(usage["total_tokens"] == (usage["prompt_tokens"] ?? 0) + (usage["completion_tokens"] ?? 0))
            }
        }
    }

    @Test func streamedCompletionEndsWithUsageAndDone() async throws {
        try await withServer { client in
            let body = #"{"prompt": "The capital of France is", "max_tokens": 5, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                let text = String(buffer: response.body)
                let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last == "data: [DONE]")
                let chunks = try events.dropLast().map { try Self.object(ByteBuffer(string: String($0.dropFirst(6)))) }
                let joined = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
                #expect(joined.hasPrefix(" Paris"))
                let usage = try #require(usageCounts(chunks.last))
                #expect(usage["completion_tokens"] == 5 && usage["prompt_tokens"] == 5)
                #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func errorsUseOpenAIShapeAndVLLMStatuses() async throws {
        try await withServer(apiKeys: ["secret"]) { client in
            let auth: HTTPFields = [.authorization: "Bearer secret"]
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            let cases: [(String, HTTPResponse.Status, String?)] = [
                ("{not json", .badRequest, nil),
                (#"{"prompt": "x", "temperature": -1}"#, .badRequest, nil),
                (#"{"prompt": "x", "top_p": 0}"#, .badRequest, nil),
                (#"{"prompt": "x", "n": 0}"#, .badRequest, nil),
                (#"{"prompt": "x", "max_tokens": -1}"#, .badRequest, nil),
                (#"{"prompt": "x", "stop": [""]}"#, .badRequest, nil),
                (#"{"prompt": 12}"#, .badRequest, "prompt"),
                (#"{"prompt": "x", "model": "other"}"#, .notFound, "model"),
                (#"{"prompt": [1, 2, 99999999]}"#, .badRequest, "prompt"),
                (#"{"prompt": "\#(String(repeating: "word ", count: 600))"}"#, .badRequest, "prompt"),
            ]
            for (body, status, param) in cases {
                try await client.execute(uri: "/v1/completions", method: .post, headers: auth, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body.prefix(60))")
                    let error = try #require(try Self.object(response.body)["error"] as? [String: Any])
                    #expect(error["message"] as? String != nil && error["type"] as? String != nil && error["code"] as? Int == Int(status.code))
                    if let param { #expect(error["param"] as? String == param, "\(body.prefix(60))") }
                }
            }
            // After all the bad requests the server still answers.
            try await client.execute(uri: "/v1/completions", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"prompt": "Hello", "max_tokens": 2}"#)) { #expect($0.status == .ok) }
        }
    }
}
