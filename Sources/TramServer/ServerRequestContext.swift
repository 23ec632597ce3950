public import Hummingbird
public import NIOCore

/// The request context of Tram's routes: Hummingbird's core context plus the connection, so a
/// handler can notice its client going away while it waits for the engine.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection; closed when the client hangs up (see `HangUpHandler`).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Closes a connection as soon as the client stops sending (end of input), so that a request
/// still being generated for it is cancelled, its engine request aborted and its KV blocks
/// freed, instead of running to the end for nobody. Hummingbird allows half-closed connections;
/// an HTTP client that half-closes and still waits for its answer is not supported.
final class HangUpHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
