/// What a front end (the HTTP server) needs of an engine: submit a request and read its
/// outputs, abort it, and know whether the engine still runs. `EngineLoop<EngineCore>` is the
/// real one; a fake one lets the HTTP layer be tested without running a model.
public protocol EngineClient: AnyObject, Sendable {
    /// Submits a request, refusing at once (before anything is queued) when the engine no longer
    /// runs or `maxQueued` requests already wait. Its outputs arrive on the stream; dropping or
    /// cancelling the stream aborts the request.
    func trySubmit(_ request: EngineRequest, id: String, maxQueued: Int?) throws(EngineError) -> AsyncThrowingStream<RequestOutput, any Error>
    /// Aborts a request (no-op when it already finished).
    func abort(_ id: String)
    /// Whether the engine still takes requests.
    var isAlive: Bool { get }
}

extension EngineLoop: EngineClient where Core.Request == EngineRequest, Core.Output == RequestOutput {}
