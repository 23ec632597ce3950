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
        case inspect(() -> Void)
        case shutdown
    }

    private let core: Core
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var inbox: [Command] = []
    private var stopped = false
    /// Set when a step failed: the engine takes no more requests (vLLM's "engine dead").
    private var failure: EngineError?
    /// Adds in the inbox not yet handed to the core.
    private var pendingAdds = 0
    /// Published by the loop thread after each round: the core's waiting count and live requests.
    private var publishedWaiting = 0
    private var publishedLive = 0
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

    /// Like `submit`, but refuses at once, before anything is queued, when the engine no longer
    /// runs or when `maxQueued` requests are already waiting (`--max-num-queued-reqs`).
    public func trySubmit(_ request: Core.Request, id: String, maxQueued: Int? = nil) throws(EngineError) -> Stream {
        let (stream, continuation) = Stream.makeStream()
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        condition.lock()
        var refusal = failure ?? (stopped ? .shutdown : nil)
        if refusal == nil, let limit = maxQueued, publishedWaiting + pendingAdds >= limit { refusal = .queueFull(limit: limit) }
        if refusal == nil {
            inbox.append(.add(id, request, continuation))
            pendingAdds += 1
            condition.signal()
        }
        condition.unlock()
        if let refusal {
            // Dropping the refused stream must not enqueue an abort of a request never added.
            continuation.onTermination = nil
            throw refusal
        }
        return stream
    }

    /// Whether the loop still takes requests: false after `shutdown()` or a failed step.
    public var isAlive: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopped && failure == nil
    }

    /// Requests submitted and not yet finished (queued, waiting or running).
    public var numUnfinishedRequests: Int {
        condition.lock()
        defer { condition.unlock() }
        return publishedLive + pendingAdds
    }

    /// Requests waiting to be scheduled, including those not yet handed to the core.
    public var numWaitingRequests: Int {
        condition.lock()
        defer { condition.unlock() }
        return publishedWaiting + pendingAdds
    }

    /// Runs `body` with the core on the loop thread between two steps (for tests and
    /// diagnostics: the core is never touched from two threads). After shutdown it runs here.
    public func inspect<T: Sendable>(_ body: @escaping @Sendable (Core) -> T) async -> T {
        await withCheckedContinuation { (result: CheckedContinuation<T, Never>) in
            let core = self.core
            let command = Command.inspect { result.resume(returning: body(core)) }
            condition.lock()
            if stopped || failure != nil {
                condition.unlock()
                result.resume(returning: body(core))
                return
            }
            inbox.append(command)
            condition.signal()
            condition.unlock()
        }
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
        if stopped || failure != nil {
            let error = failure ?? .shutdown
            condition.unlock()
            if case let .add(_, _, continuation) = command { continuation.finish(throwing: error) }
            return
        }
        if case .add = command { pendingAdds += 1 }
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
            pendingAdds = 0
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
                case let .inspect(body):
                    body()
                case .shutdown:
                    condition.lock()
                    stopped = true
                    let pending = inbox
                    inbox.removeAll()
                    condition.unlock()
                    Self.settle(pending, error: .shutdown)
                    for (id, continuation) in continuations {
                        core.abort(id)
                        continuation.finish(throwing: EngineError.shutdown)
                    }
                    continuations.removeAll()
                    publish()
                    return
                }
            }
            if aborted { onStep?(core) }
            publish()
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
                publish()
            } catch {
                // A failed step is a bug or a broken model: fail every request, and take no more
                // (vLLM's dead engine: /health turns 503 so a supervisor restarts the server).
                condition.lock()
                failure = error
                let pending = inbox
                inbox.removeAll()
                pendingAdds = 0
                condition.unlock()
                Self.settle(pending, error: error)
                for (id, continuation) in continuations {
                    core.abort(id)
                    continuation.finish(throwing: error)
                }
                continuations.removeAll()
                publish()
            }
        }
    }

    /// Commands left in the inbox when the loop stops: adds fail, inspections still run.
    private static func settle(_ commands: [Command], error: EngineError) {
        for command in commands {
            switch command {
            case let .add(_, _, continuation): continuation.finish(throwing: error)
            case let .inspect(body): body()
            case .abort, .shutdown: break
            }
        }
    }

    private func publish() {
        let waiting = core.numWaitingRequests
        condition.lock()
        publishedWaiting = waiting
        publishedLive = continuations.count
        condition.unlock()
    }
}
