import Foundation
import Testing
import TramEngine

/// A core without a model: request "n" emits n outputs, one per step, then finishes.
final class CountingCore: EngineCoreProtocol, @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: [String: Int] = [:]
    private var emitted: [String: Int] = [:]
    private var abortedIDs: [String] = []
    var stepDelay: TimeInterval = 0

    func add(_ request: Int, id: String) throws(EngineError) {
        guard request > 0 else { throw .invalidParameter("count must be positive") }
        lock.withLock { remaining[id] = request }
    }

    func abort(_ id: String) {
        lock.withLock {
            if remaining.removeValue(forKey: id) != nil { abortedIDs.append(id) }
        }
    }

    var hasUnfinishedRequests: Bool { lock.withLock { !remaining.isEmpty } }

    func step() throws(EngineError) -> [StepOutput<Int>] {
        if stepDelay > 0 { Thread.sleep(forTimeInterval: stepDelay) }
        return lock.withLock {
            var out: [StepOutput<Int>] = []
            for (id, left) in remaining.sorted(by: { $0.key < $1.key }) {
                let n = (emitted[id] ?? 0) + 1
                emitted[id] = n
                remaining[id] = left - 1 == 0 ? nil : left - 1
                out.append(StepOutput(requestID: id, output: n, finished: left == 1))
            }
            return out
        }
    }

    var live: Int { lock.withLock { remaining.count } }
    var aborted: [String] { lock.withLock { abortedIDs } }
}

@Suite struct EngineLoopTests {
    @Test func streamsEveryOutputAndFinishes() async throws {
        let core = CountingCore()
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        async let a = collect(loop.submit(3, id: "a"))
        async let b = collect(loop.submit(5, id: "b"))
        #expect(try await a == [1, 2, 3])
        #expect(try await b == [1, 2, 3, 4, 5])
        #expect(core.live == 0)
    }

    @Test func refusedRequestsThrowOnTheirStream() async {
        let loop = EngineLoop(core: CountingCore())
        defer { loop.shutdown() }
        await #expect(throws: EngineError.self) { try await collect(loop.submit(0, id: "bad")) }
    }

    /// A consumer that goes away mid-stream aborts its request in the core.
    @Test func cancellingTheConsumerAbortsTheRequest() async throws {
        let core = CountingCore()
        core.stepDelay = 0.002
        let loop = EngineLoop(core: core)
        defer { loop.shutdown() }
        let task = Task {
            var seen = 0
            for try await _ in loop.submit(1_000_000, id: "long") {
                seen += 1
                if seen == 3 { break }
            }
            return seen
        }
        #expect(try await task.value == 3)
        for _ in 0..<500 where core.live > 0 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(core.live == 0)
        #expect(core.aborted == ["long"])
        // The loop still serves new requests afterwards.
        #expect(try await collect(loop.submit(2, id: "after")) == [1, 2])
    }

    /// `onStep` sees each step before its outputs reach the consumers, and sees an abort even
    /// when it leaves nothing to step: metrics never lag what clients have been told.
    @Test func onStepRunsBeforeOutputsAndAfterAborts() async throws {
        final class Seen: @unchecked Sendable {
            private let lock = NSLock()
            private var calls: [Int] = []
            func append(_ live: Int) { lock.withLock { calls.append(live) } }
            var all: [Int] { lock.withLock { calls } }
        }
        let core = CountingCore()
        core.stepDelay = 0.002
        let seen = Seen()
        let loop = EngineLoop(core: core) { seen.append($0.live) }
        defer { loop.shutdown() }
        // In a task of its own, so that the stream is surely gone when it ends.
        let received = try await Task {
            var received = 0
            for try await _ in loop.submit(1_000_000, id: "long") {
                received += 1
                #expect(seen.all.count >= received)
                if received == 3 { break }
            }
            return received
        }.value
        #expect(received == 3)
        for _ in 0..<500 where seen.all.last != 0 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(core.aborted == ["long"])
        #expect(seen.all.last == 0)
    }

    @Test func shutdownEndsUnfinishedStreams() async throws {
        let core = CountingCore()
        core.stepDelay = 0.002
        let loop = EngineLoop(core: core)
        let stream = loop.submit(1_000_000, id: "forever")
        var iterator = stream.makeAsyncIterator()
        _ = try await iterator.next()
        loop.shutdown()
        await #expect(throws: EngineError.self) { while try await iterator.next() != nil {} }
        await #expect(throws: EngineError.self) { try await collect(loop.submit(1, id: "late")) }
    }

    func collect(_ stream: EngineLoop<CountingCore>.Stream) async throws -> [Int] {
        var out: [Int] = []
        for try await x in stream { out.append(x) }
        return out
    }
}
