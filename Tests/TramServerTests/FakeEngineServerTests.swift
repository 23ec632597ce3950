import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TramEngine
import TramModels
import TramServer
import TramTestSupport

/// An engine that runs no model: each request gets the outputs `script` gives it (or its
/// error), and every submission and abort is recorded. The server talks to it through
/// `EngineClient` exactly as to the real loop.
final class FakeEngine: EngineClient, Sendable {
    struct State {
        var submitted: [String] = []
        var aborted: [String] = []
        var alive = true
        var refusal: EngineError?
        /// Refuse with a full queue once this many requests were admitted.
        var refuseAfter: Int?
    }

    let state = Mutex(State())
    /// Outputs for a request, then the error that ends its stream (nil: it finishes).
    let script: @Sendable (EngineRequest) -> (outputs: [RequestOutput], error: EngineError?)

    init(script: @escaping @Sendable (EngineRequest) -> (outputs: [RequestOutput], error: EngineError?)) {
        self.script = script
    }

    var isAlive: Bool { state.withLock { $0.alive } }

    func trySubmit(_ request: EngineRequest, id: String, maxQueued: Int?) throws(EngineError) -> AsyncThrowingStream<RequestOutput, any Error> {
        let refusal: EngineError? = state.withLock { s in
            if let r = s.refusal { return r }
            if let limit = s.refuseAfter, s.submitted.count >= limit { return .queueFull(limit: limit) }
            s.submitted.append(id)
            return nil
        }
        if let refusal { throw refusal }
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, any Error>.makeStream()
        let (outputs, error) = script(request)
        for o in outputs { continuation.yield(o) }
        if let error { continuation.finish(throwing: error) } else if outputs.last?.finish != nil { continuation.finish() }
        // A script that does not finish leaves the request running until it is aborted.
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        return stream
    }

    func abort(_ id: String) { state.withLock { $0.aborted.append(id) } }
}

/// The HTTP layer over a fake engine: scripted outputs become exact responses and events, and
/// engine refusals and failures become the right statuses, with no model running. The
/// tokenizer and template still come from the real model file (loaded, never run).
@Suite struct FakeEngineServerTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    func withServer(_ engine: FakeEngine, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let server = OpenAIServer(model: try Self.model.get(), engine: engine, maxModelLen: 256,
                                  configuration: ServerConfiguration(servedModelNames: ["fake"]))
        try await Application(router: server.makeRouter()).test(.router) { client in try await body(client) }
    }

    static func output(_ text: String, tokens: [Int], index: Int = 0, finish: Finish? = nil) -> RequestOutput {
        RequestOutput(index: index, tokenIDs: tokens, text: text, finish: finish, promptTokenCount: 3, cachedPromptTokenCount: 2)
    }

    @Test func scriptedOutputsBecomeTheResponse() async throws {
        let engine = FakeEngine { _ in
            ([Self.output("Hello", tokens: [10]), Self.output(" world", tokens: [11, 12], finish: Finish(reason: .stop, stopReason: .string("!")))], nil)
        }
        try await withServer(engine) { client in
            let response = try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": "Hi", "max_tokens": 5}"#))
            #expect(response.status == .ok)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            let choice = try #require((object["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "Hello world")
            #expect(choice["finish_reason"] as? String == "stop" && choice["stop_reason"] as? String == "!")
            let usage = try #require(object["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 3)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 2)
            #expect(object["model"] as? String == "fake")
        }
        #expect(engine.state.withLock { $0.submitted.count } == 1)
    }

    @Test func streamedOutputsAreEventsEndingInDone() async throws {
        let engine = FakeEngine { _ in
            ([Self.output("A", tokens: [1]), Self.output("B", tokens: [2], finish: Finish(reason: .length))], nil)
        }
        try await withServer(engine) { client in
            let response = try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string:
                #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "stream_options": {"include_usage": true}}"#))
            let text = String(buffer: response.body)
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.count == 5, "\(text)")  // role, A, B, usage, [DONE]
            #expect(events.first?.contains(#""role":"assistant""#) == true)
            #expect(events[1].contains(#""content":"A""#) && !events[1].contains("stop_reason"))
            #expect(events[2].contains(#""finish_reason":"length""#) && events[2].contains(#""stop_reason":null"#))
            #expect(events[3].contains(#""choices":[]"#) && events[3].contains(#""completion_tokens":2"#))
            #expect(events.last == "data: [DONE]")
        }
    }

    @Test func anEngineFailureMidStreamIsAnErrorEventOfItsOwnType() async throws {
        let engine = FakeEngine { _ in ([Self.output("A", tokens: [1])], .shutdown) }
        try await withServer(engine) { client in
            let response = try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": "Hi", "stream": true}"#))
            let text = String(buffer: response.body)
            #expect(text.contains(#""type":"ServiceUnavailableError""#) && text.contains(#""code":503"#), "\(text)")
            #expect(text.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func refusalsAndADeadEngineGetTheirStatuses() async throws {
        let engine = FakeEngine { _ in ([], nil) }
        try await withServer(engine) { client in
            engine.state.withLock { $0.refusal = .queueFull(limit: 4) }
            let full = try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": "Hi"}"#))
            #expect(full.status == .serviceUnavailable && String(buffer: full.body).contains("4 requests are already waiting"))
            engine.state.withLock { $0.refusal = nil; $0.alive = false }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
        #expect(engine.state.withLock { $0.submitted }.isEmpty)
    }

    /// When a later prompt of a request is refused (the queue filled meanwhile), the prompts
    /// already admitted are aborted: nothing stays behind in the engine.
    @Test func aRefusedSecondPromptAbortsTheFirst() async throws {
        let engine = FakeEngine { _ in ([], nil) }
        engine.state.withLock { $0.refuseAfter = 1 }
        try await withServer(engine) { client in
            let response = try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": ["a", "b"]}"#))
            #expect(response.status == .serviceUnavailable)
        }
        let state = engine.state.withLock { $0 }
        #expect(state.submitted.count == 1)
        #expect(Set(state.aborted) == Set(state.submitted), "the admitted prompt was aborted")
    }
}
