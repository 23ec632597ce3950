import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TramEngine
import TramModels
import TramServer
import TramTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bare HTTP/1.1 client over a POSIX socket, so a test can hang up in the middle of a
/// response the way a real client does.
struct RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        // A test must fail, not hang, when the server stops answering.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }

    func post(_ path: String, _ body: String) {
        send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Reads until `needle` has arrived `count` times (or the peer closes, or 30 s pass).
    func read(until needle: String, count: Int = 1) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while String(decoding: received, as: UTF8.self).components(separatedBy: needle).count <= count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func hangUp() { close(fd) }
}

/// The server over real sockets: clients that go away, and the state the engine is left in.
/// It loads its own copy of the model: one model's workspace serves one engine thread at a time,
/// and other suites run beside this one.
@Suite(.serialized) struct LiveServerTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    /// A live server over its own engine (`configuration` with `threads: 2`), and the loop so a
    /// test can inspect the engine while clients come and go.
    func withLiveServer(_ configuration: EngineConfiguration,
                        _ body: @Sendable (EngineLoop<EngineCore>, any TestClientProtocol) async throws -> Void) async throws {
        let model = try Self.model.get()
        let core = try EngineCore(model: model, configuration: configuration)
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        let server = OpenAIServer(model: model, engine: loop, maxModelLen: core.maxModelLen,
                                  configuration: ServerConfiguration(port: 0, servedModelNames: ["smol"]), limits: core.requestLimits)
        try await server.makeApplication(logger: Logger(label: "test")).test(.live) { client in try await body(loop, client) }
    }

    /// Many streams and non-streaming requests dropped mid-generation: every request is
    /// aborted in the engine at once and every KV block is free again.
    @Test func droppedClientsFreeEverything() async throws {
        do {
            let model = try Self.model.get()
            let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 1024, kvCacheMemory: 384 << 20, threads: 2))
            let loop = EngineLoop(core: core)
            defer { loop.shutdown() }
            let server = OpenAIServer(model: model, engine: loop, maxModelLen: 1024, configuration: ServerConfiguration(port: 0, servedModelNames: ["smol"]))
            let app = server.makeApplication(logger: Logger(label: "test"))
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let streaming = #"{"prompt": "Once upon a time", "max_tokens": 400, "ignore_eos": true, "stream": true}"#
                let chat = #"{"messages": [{"role": "user", "content": "Tell me a long story."}], "max_tokens": 400, "ignore_eos": true, "stream": true, "n": 2}"#
                let plain = #"{"prompt": "Once upon a time", "max_tokens": 400, "ignore_eos": true}"#
                var streams: [RawConnection] = []
                for i in 0..<8 {
                    let c = try RawConnection(port: port)
                    c.post(i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions", i % 2 == 0 ? streaming : chat)
                    streams.append(c)
                }
                var plains: [RawConnection] = []
                for _ in 0..<4 {
                    let c = try RawConnection(port: port)
                    c.post("/v1/completions", plain)
                    plains.append(c)
                }
                // Every stream is generating: each has sent tokens.
                for c in streams {
                    // Past the role chunks (two for n=2): tokens are flowing.
                    let head = c.read(until: "data: {", count: 4)
                    #expect(head.hasPrefix("HTTP/1.1 200"), "\(head.prefix(200))")
                }
                let busy = await loop.inspect { ($0.statistics.numRunning, $0.statistics.kvCacheUsage) }
                #expect(busy.0 == 16, "8 streams (4 with n=2) and 4 plain requests run")
                #expect(busy.1 > 0)
                for c in streams + plains { c.hangUp() }

                // Far sooner than 400 tokens would take, nothing is left.
                let deadline = ContinuousClock.now + .seconds(5)
                while loop.numUnfinishedRequests > 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(loop.numUnfinishedRequests == 0)
                let after = await loop.inspect { ($0.statistics.numRunning, $0.statistics.numWaiting, $0.statistics.kvCacheUsage, $0.hasUnfinishedRequests) }
                #expect(after.0 == 0 && after.1 == 0)
                #expect(after.2 == 0, "every KV block is free")
                #expect(after.3 == false)

                // The server still serves.
                let response = try await client.execute(uri: "/v1/completions", method: .post,
                                                        body: ByteBuffer(string: #"{"prompt": "Hello", "max_tokens": 2}"#))
                #expect(response.status == .ok)
            }
        }
    }

    /// An error after the stream started (here the engine shutting down) arrives as an
    /// `error` event, then `[DONE]`; the response still ends cleanly.
    @Test func midStreamErrorIsAnEvent() async throws {
        do {
            let model = try Self.model.get()
            let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 1024, kvCacheMemory: 64 << 20, threads: 2))
            let loop = EngineLoop(core: core)
            defer { loop.shutdown() }
            let server = OpenAIServer(model: model, engine: loop, maxModelLen: 1024, configuration: ServerConfiguration(port: 0, servedModelNames: ["smol"]))
            let app = server.makeApplication(logger: Logger(label: "test"))
            try await app.test(.live) { client in
                let c = try RawConnection(port: try #require(client.port))
                defer { c.hangUp() }
                c.post("/v1/completions", #"{"prompt": "Once upon a time", "max_tokens": 400, "ignore_eos": true, "stream": true}"#)
                _ = c.read(until: "data: {", count: 2)
                loop.shutdown()
                let rest = c.read(until: "data: [DONE]")
                #expect(rest.contains(#"data: {"error":"#))
                #expect(rest.contains("the engine is shutting down"))
                // Typed as the same condition is before streaming: 503, not a 500.
                #expect(rest.contains(#""type":"ServiceUnavailableError""#) && rest.contains(#""code":503"#), "\(rest.suffix(300))")
                #expect(rest.hasSuffix("data: [DONE]\n\n") || rest.contains("data: [DONE]"))
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .serviceUnavailable) }
                try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt": "Hi", "stream": true}"#)) {
                    #expect($0.status == .serviceUnavailable)
                }
            }
        }
    }

    /// Streams whose clients hang up while they wait for a slot leave the queue at once: they are
    /// noticed from the connection, not when their first token fails to write (which took until
    /// the running request finished: seconds).
    @Test func queuedStreamsThatHangUpLeaveTheQueueAtOnce() async throws {
        try await withLiveServer(EngineConfiguration(maxModelLen: 1024, maxNumSeqs: 1, kvCacheMemory: 64 << 20, threads: 2)) { loop, client in
            let port = try #require(client.port)
            let busy = try RawConnection(port: port)
            defer { busy.hangUp() }
            busy.post("/v1/completions", #"{"prompt": "Once upon a time", "max_tokens": 1000, "ignore_eos": true, "stream": true}"#)
            _ = busy.read(until: "data: {", count: 2)
            var queued: [RawConnection] = []
            for _ in 0..<3 {
                let c = try RawConnection(port: port)
                c.post("/v1/completions", #"{"prompt": "Tell me about the sea", "max_tokens": 50, "stream": true}"#)
                queued.append(c)
            }
            try await Self.wait(for: { loop.numWaitingRequests == 3 })
            #expect(loop.numWaitingRequests == 3)
            for c in queued { c.hangUp() }
            try await Self.wait(for: { loop.numWaitingRequests == 0 })
            #expect(loop.numWaitingRequests == 0, "hung-up streams left the queue")
            let state = await loop.inspect { ($0.statistics.numRunning, $0.statistics.finishedRequests) }
            #expect(state.0 == 1 && state.1 == 0, "the busy stream still runs: the three were aborted, not served")
        }
    }

    /// 20 clients send 1,500-token prompts and close 50 ms later: each costs at most one prefill
    /// chunk (the whole step budget is 128 tokens), and a short request is served meanwhile.
    @Test func longPromptsAbandonedAt50msCostAtMostAChunkEach() async throws {
        try await withLiveServer(EngineConfiguration(maxModelLen: 2048, maxNumBatchedTokens: 128, kvCacheMemory: 256 << 20, threads: 2)) { loop, client in
            let port = try #require(client.port)
            var connections: [RawConnection] = []
            for i in 0..<20 {
                let ids = (0..<1500).map { String(100 + (i * 7 + $0) % 5000) }.joined(separator: ",")
                let c = try RawConnection(port: port)
                c.post("/v1/completions", #"{"prompt": [\#(ids)], "max_tokens": 16, "stream": \#(i % 2 == 0)}"#)
                connections.append(c)
            }
            try await Task.sleep(for: .milliseconds(50))
            for c in connections { c.hangUp() }
            try await Self.wait(for: { loop.numUnfinishedRequests == 0 })
            #expect(loop.numUnfinishedRequests == 0)
            let prefilled = await loop.inspect { $0.statistics.promptTokens }
            #expect(prefilled <= 20 * 128, "\(prefilled) prompt tokens computed for 20 abandoned requests")
            let response = try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                    body: ByteBuffer(string: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}"#))
            #expect(response.status == .ok)
        }
    }

    /// Polls `condition` every 5 ms for up to 10 s.
    static func wait(for condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }
}
