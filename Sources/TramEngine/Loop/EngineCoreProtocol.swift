/// The synchronous heart of an engine, as the loop thread sees it: requests go in, `step()`
/// runs one schedule → execute → sample → update round and reports what each request produced.
/// Everything here runs on the loop's one thread, so implementations need no locks.
public protocol EngineCoreProtocol: AnyObject {
    associatedtype Request: Sendable
    associatedtype Output: Sendable

    /// Accepts a request; throws when it can never run (too long, bad parameters).
    func add(_ request: Request, id: String) throws(EngineError)
    /// Drops a request wherever it is and frees what it holds. Unknown ids are ignored.
    func abort(_ id: String)
    /// Whether `step()` has anything to do.
    var hasUnfinishedRequests: Bool { get }
    /// One engine iteration; returns each request's output of this step and whether it finished.
    func step() throws(EngineError) -> [StepOutput<Output>]
    /// Requests accepted but not yet scheduled (for admission limits and health).
    var numWaitingRequests: Int { get }
}

extension EngineCoreProtocol {
    public var numWaitingRequests: Int { 0 }
}

/// What one request produced in one step.
public struct StepOutput<Output: Sendable>: Sendable {
    public var requestID: String
    public var output: Output
    public var finished: Bool

    public init(requestID: String, output: Output, finished: Bool) {
        self.requestID = requestID
        self.output = output
        self.finished = finished
    }
}
