package import Foundation
package import NIOCore
package import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client on SwiftNIO, enough to drive an OpenAI-compatible server: one
/// request per connection, the response handed over part by part as it arrives so that a
/// streamed body can be timed chunk by chunk.
///
/// Why not a keep-alive pool: on loopback a connection costs ~0.1 ms, far below any time to
/// first token, and a fresh connection per request keeps every request independent (a server
/// that drops one connection fails one request). Why not async-http-client: it brings
/// swift-nio-ssl and BoringSSL into the build, for TLS the benchmark does not need.
package struct HTTPClient: Sendable {
    package let address: ServerAddress
    let group: any EventLoopGroup
    var headers: [(String, String)]

    /// - Parameter apiKey: sent as `Authorization: Bearer …` when given.
    package init(address: ServerAddress, apiKey: String? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.address = address
        self.group = group
        headers = [("Host", address.hostHeader), ("User-Agent", "tram-bench"), ("Accept", "*/*")]
        if let apiKey, !apiKey.isEmpty { headers.append(("Authorization", "Bearer \(apiKey)")) }
    }

    /// One piece of a response, in arrival order: the head once, then body bytes.
    package enum ResponsePart {
        case head(status: Int, reason: String)
        case body(ByteBuffer)
    }

    /// Sends one request and passes each part of the response to `onPart` as it arrives.
    /// Returns when the response has ended; throws when the connection fails or breaks first.
    package func execute(
        method: HTTPMethod, endpoint: String, json body: Data? = nil, onPart: (ResponsePart) throws -> Void
    ) async throws {
        let url = address.url(endpoint)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: address.path(endpoint))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Connection", value: "close")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BenchError.connection(url: url, reason: "\(error)")
        }
        var ended = false
        var writeError: (any Error)?
        try await channel.executeThenClose { inbound, outbound in
            // One write, one flush. A server may answer before it has read the body (a 401 from
            // a middleware) and close: the write then fails, yet the answer is in `inbound`.
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            do { try await outbound.write(contentsOf: parts) } catch { writeError = error }
            for try await part in inbound {
                switch part {
                case let .head(response):
                    try onPart(.head(status: Int(response.status.code), reason: response.status.reasonPhrase))
                case let .body(bytes):
                    try onPart(.body(bytes))
                case .end:
                    ended = true
                    return
                }
            }
        }
        if !ended {
            let reason = writeError.map { "sending the request failed: \($0)" } ?? "the server closed the connection before the response ended"
            throw BenchError.connection(url: url, reason: reason)
        }
    }

    /// Sends one request and returns the whole response.
    package func collect(method: HTTPMethod, endpoint: String, json body: Data? = nil) async throws -> (status: Int, body: Data) {
        var status = 0
        var data = Data()
        try await execute(method: method, endpoint: endpoint, json: body) { part in
            switch part {
            case let .head(code, _): status = code
            case let .body(bytes): data.append(contentsOf: bytes.readableBytesView)
            }
        }
        return (status, data)
    }
}
