import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramEngine
import TramInput
import TramModels
import TramServer
import TramTestSupport
import TramTokenizer

/// Chat with a Gemma 3 GGUF, which carries no chat template: the server falls back to Tram's
/// built-in Gemma 3 template (system folded into the first user turn) and a turn's
/// `<end_of_turn>` ends generation as EOS does. Over the tiny synthetic Gemma (`TinyGemma3`).
@Suite(.serialized) struct Gemma3ChatTests {
    static func load(_ tiny: TinyGemma3 = TinyGemma3()) throws -> LoadedModel {
        let url = try TestResources.temporaryDirectory().appendingPathComponent("tiny-gemma3.gguf")
        try tiny.writeGGUF(to: url)
        return try ModelLoader.load(path: url.path)
    }

    static let model: Result<LoadedModel, any Error> = Result { try load() }

    func withServer(_ body: @Sendable (any TestClientProtocol, OpenAIServer) async throws -> Void) async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 64, blockSize: 4, kvCacheMemory: 1 << 20, threads: 2))
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        let server = OpenAIServer(model: model, engine: loop, maxModelLen: 64, configuration: ServerConfiguration(servedModelNames: ["gemma"]),
                                  limits: core.requestLimits)
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in try await body(client, server) }
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body))
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:])
    }

    @Test func chatUsesTheBuiltInTemplateAndStopsAtEndOfTurn() async throws {
        let tokenizer = try Self.model.get().tokenizer
        try await withServer { client, server in
            #expect(server.chatTemplateProblem == nil)
            #expect(server.chatTemplateDescription.contains("built-in gemma-3"))
            let messages = #"[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]"#
            let (status, tokenized) = try await Self.post(client, "/tokenize", #"{"messages": \#(messages)}"#)
            #expect(status == .ok)
            let expected = tokenizer.encode("<bos><start_of_turn>user\nbe brief\n\nhi<end_of_turn>\n<start_of_turn>model\n", addSpecialTokens: false)
            #expect(tokenized["tokens"] as? [Int] == expected)
            #expect(expected.first == 2 && expected.filter { $0 == 2 }.count == 1, "one BOS, the template's")

            // The model is pushed to end its turn at once: the answer is empty and stops there.
            let (chatStatus, chat) = try await Self.post(client, "/v1/chat/completions",
                #"{"model": "gemma", "messages": \#(messages), "max_tokens": 8, "logit_bias": {"\#(TinyGemma3.endOfTurnID)": 100}}"#)
            #expect(chatStatus == .ok)
            let choice = try #require((chat["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "stop")
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "")
            #expect((chat["usage"] as? [String: Any])?["prompt_tokens"] as? Int == expected.count)

            // ignore_eos lets it run past <end_of_turn> to max_tokens.
            let (_, ignoring) = try await Self.post(client, "/v1/chat/completions",
                #"{"model": "gemma", "messages": \#(messages), "max_tokens": 3, "ignore_eos": true, "logit_bias": {"\#(TinyGemma3.endOfTurnID)": 100}}"#)
            let ignored = try #require((ignoring["choices"] as? [[String: Any]])?.first)
            #expect(ignored["finish_reason"] as? String == "length")
        }
    }

    /// A template in the file, or `--chat-template`, still wins over the built-in one.
    @Test func theModelsOwnTemplateOrTheArgumentWins() throws {
        let builtIn = ChatTemplateChoice(argument: nil, model: try Self.model.get())
        #expect(builtIn.origin == .builtIn(name: "gemma-3"))
        var tiny = TinyGemma3()
        tiny.chatTemplate = "{% for m in messages %}{{ m.content }}{% endfor %}"
        let own = try Self.load(tiny)
        #expect(ChatTemplateChoice(argument: nil, model: own) == ChatTemplateChoice(argument: nil, model: own))
        #expect(ChatTemplateChoice(argument: nil, model: own).origin == .model)
        #expect(ChatTemplateChoice(argument: nil, model: own).source == tiny.chatTemplate)
        #expect(ChatTemplateChoice(argument: "{{ 1 }}", model: own).origin == .argument)
        #expect(ChatTemplateChoice(argument: "{{ 1 }}", model: try Self.model.get()).source == "{{ 1 }}")
    }
}
