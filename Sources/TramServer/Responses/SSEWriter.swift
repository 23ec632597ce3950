import Foundation
import Hummingbird
import NIOCore

/// The one writer of server-sent events: `data: {json}\n\n` per event, an error after the stream
/// started as an `error` event, and `data: [DONE]` at the end, as OpenAI and vLLM stream.
struct SSEWriter {
    private var writer: any ResponseBodyWriter
    private let encoder: JSONEncoder

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
        encoder = OpenAIServer.makeEncoder()
    }

    mutating func send(_ event: some Encodable) async throws {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try encoder.encode(event))
        buffer.writeString("\n\n")
        try await writer.write(buffer)
    }

    /// An error that happens after the stream has started, typed as the same error would be
    /// before streaming (a drain's abort: 503), as vLLM sends it.
    mutating func send(error: any Error) async throws {
        struct Event: Encodable { var error: ServerError.ErrorBody }
        try await send(Event(error: OpenAIServer.mapEngineError(error).body))
    }

    /// `data: [DONE]`, then the end of the body.
    mutating func finish() async throws {
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    }
}
