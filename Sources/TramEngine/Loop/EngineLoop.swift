import Foundation

/// Runs an engine core on one dedicated thread (never the cooperative pool) and hands each
/// request an async stream of its outputs.
///
/// Requests and aborts arrive from any thread into an inbox; the loop drains the inbox between
/// steps, so a new request joins the very next step. When a request's consumer goes away (the
/// stream is cancelled or dropped), the request is aborted in the core at the next step boundary,
/// freeing its KV blocks. When the core has nothing to do the thread sleeps on a condition.
///
///     any thread ──submit/abort──▶ inbox ──(loop thread)──▶ core.add / core.abort
///                                                            core.step() ──▶ continuations
public final class EngineLoop<Core: EngineCoreProtocol>: @unchecked Sendable {
    public typealias Stream = AsyncThrowingStream<Core.Output, any Error>

    private enum Command {
        case add(String, Core.Request, Stream.Continuation)
        case abort(String)
        case shutdown
    }

    private let core: Core
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var inbox: [Command] = []
    private var stopped = false
    // Loop thread only.
    private var continuations: [String: Stream.Continuation] = [:]
    private let onStep: (@Sendable (Core) -> Void)?

    /// - Parameter onStep: called on the loop thread after each step (before its outputs are
    ///   handed out) and after each batch of aborts (which may leave nothing to step), with the
    ///   core, so that statistics can be read safely (for metrics and logging).
    public init(core: Core, name: String = "tram-engine", onStep: (@Sendable (Core) -> Void)? = nil) {
        self.core = core
        self.onStep = onStep
        // The thread holds the loop strongly until `shutdown()`: a loop is never freed mid-step.
        let thread = Thread { self.run() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Submits a request; its outputs arrive on the returned stream, which finishes after the
    /// request's last output or throws if the request is refused or the engine fails.
    public func submit(_ request: Core.Request, id: String) -> Stream {
        let (stream, continuation) = Stream.makeStream()
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        enqueue(.add(id, request, continuation))
        return stream
    }

    /// Aborts a request (no-op when it already finished).
    public func abort(_ id: String) {
        enqueue(.abort(id))
    }

    /// Stops the loop after the current step; unfinished streams end with `EngineError.shutdown`.
    public func shutdown() {
        enqueue(.shutdown)
    }

    private func enqueue(_ command: Command) {
        condition.lock()
        if stopped {
            condition.unlock()
            if case let .add(_, _, continuation) = command { continuation.finish(throwing: EngineError.shutdown) }
            return
        }
        inbox.append(command)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while inbox.isEmpty && !core.hasUnfinishedRequests && !stopped {
                condition.wait()
            }
            let commands = inbox
            inbox.removeAll()
            condition.unlock()

            var aborted = false
            for command in commands {
                switch command {
                case let .add(id, request, continuation):
                    do {
                        guard continuations[id] == nil else { throw EngineError.invalidParameter("request id '\(id)' is already running") }
                        try core.add(request, id: id)
                        continuations[id] = continuation
                    } catch {
                        continuation.finish(throwing: error)
                    }
                case let .abort(id):
                    core.abort(id)
                    continuations.removeValue(forKey: id)?.finish()
                    aborted = true
                case .shutdown:
                    condition.lock()
                    stopped = true
                    let pending = inbox
                    inbox.removeAll()
                    condition.unlock()
                    for case let .add(_, _, continuation) in pending { continuation.finish(throwing: EngineError.shutdown) }
                    for (id, continuation) in continuations {
                        core.abort(id)
                        continuation.finish(throwing: EngineError.shutdown)
                    }
                    continuations.removeAll()
                    return
                }
            }
            if aborted { onStep?(core) }
            guard core.hasUnfinishedRequests else { continue }
            do {
                let outputs = try core.step()
                // Before the outputs go out, so a client that has seen its last token and then
                // asks for metrics finds its request counted.
                onStep?(core)
                for o in outputs {
                    guard let continuation = continuations[o.requestID] else { continue }
                    continuation.yield(o.output)
                    if o.finished {
                        continuation.finish()
                        continuations.removeValue(forKey: o.requestID)
                    }
                }
            } catch {
                // A failed step is a bug or a broken model: fail every request rather than loop.
                for (id, continuation) in continuations {
                    core.abort(id)
                    continuation.finish(throwing: error)
                }
                continuations.removeAll()
            }
        }
    }
}
