import Foundation
import Testing
import TramKernels
import TramTestSupport

@Test(arguments: [1, 2, 3, 5])
func parallelForRunsEveryIndexOnce(threads: Int) {
    let pool = ThreadPool(threadCount: threads)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
    defer { counts.deallocate() }
    // many calls with uneven counts, including 0, 1 and fewer indices than threads
    for call in 0..<2000 {
        let count = [0, 1, 2, 3, 7, 64, 999][call % 7]
        counts.initialize(repeating: 0, count: 1000)
        pool.parallelFor(count) { i in counts[i] += 1 } // distinct i: no two threads share a slot
        for i in 0..<1000 where counts[i] != (i < count ? 1 : 0) {
            Issue.record("call \(call): index \(i) ran \(counts[i]) times for count \(count)")
            return
        }
    }
}

@Test func parallelForAfterWorkersPark() throws {
    let pool = ThreadPool(threadCount: 2)
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    defer { hits.deallocate() }
    for _ in 0..<3 {
        hits.initialize(repeating: 0, count: 4)
        pool.parallelFor(4) { hits[$0] = 1 }
        #expect((0..<4).allSatisfy { hits[$0] == 1 })
        usleep(20_000) // long enough for workers to stop spinning and sleep on the futex
    }
}

/// Dropping a pool stops and joins its workers: while a pool lives its two workers exist, and
/// once it is gone none is left, 20 times over (threads are found by name in /proc, so a pool
/// that leaked its threads fails).
@Test func poolShutsDown() {
    func workers() -> Int {
        #if os(Linux)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
            return comm.hasPrefix("tram-shutdown-")
        }.count
        #else
        return 0
        #endif
    }
    for _ in 0..<20 {
        var hits = [Int](repeating: 0, count: 10)
        do {
            let pool = ThreadPool(threadCount: 3, name: "tram-shutdown")
            hits.withUnsafeMutableBufferPointer { h in
                let base = h.baseAddress!
                pool.parallelFor(10) { base[$0] += 1 }
            }
            #if os(Linux)
            // Thread names are set as each worker starts.
            let deadline = ContinuousClock.now + .seconds(5)
            while workers() < 2, ContinuousClock.now < deadline { usleep(1000) }
            #expect(workers() == 2)
            #endif
        }
        #expect(hits == [Int](repeating: 1, count: 10))
        // The pool's deinit returns once each worker has left its loop; the OS thread ends
        // right after. /proc can list an exiting thread whose name does not read for a moment,
        // so "gone" means no worker seen on five reads in a row.
        let deadline = ContinuousClock.now + .seconds(5)
        var absentReads = 0
        while absentReads < 5, ContinuousClock.now < deadline {
            absentReads = workers() == 0 ? absentReads + 1 : 0
            usleep(1000)
        }
        #expect(absentReads == 5, "a dropped pool's workers have exited")
    }
}

/// Marks each index's slot and records which pool thread ran it.
private struct MarkIndices: ParallelWork {
    let hits: UnsafeMutablePointer<Int>
    let threads: UnsafeMutablePointer<Int>
    let busy: UnsafeMutablePointer<Int>

    func run(_ index: Int, thread: Int) {
        hits[index] += 1
        threads[index] = thread
        // Two items on one thread at once would find the slot taken.
        busy[thread] += 1
        if busy[thread] != 1 { hits[index] += 1000 }
        for _ in 0..<(index % 5) * 100 { busy[thread] += 0 }
        busy[thread] -= 1
    }
}

@Test(arguments: [1, 2, 3])
func parallelForWithWorkRunsEachIndexOnceAndAllocatesNothing(threads: Int) {
    #expect(AllocationCounter.isActive)
    let pool = ThreadPool(threadCount: threads)
    let count = 257
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
    let ranOn = UnsafeMutablePointer<Int>.allocate(capacity: count)
    let busy = UnsafeMutablePointer<Int>.allocate(capacity: threads * 16)
    defer { hits.deallocate(); ranOn.deallocate(); busy.deallocate() }
    busy.initialize(repeating: 0, count: threads * 16)
    let work = MarkIndices(hits: hits, threads: ranOn, busy: busy)
    var allocations = 0
    for _ in 0..<50 {
        hits.initialize(repeating: 0, count: count)
        ranOn.initialize(repeating: -1, count: count)
        allocations += AllocationCounter.count(including: pool) { pool.parallelFor(count, work) }
        #expect((0..<count).allSatisfy { hits[$0] == 1 }, "an index ran twice, or two items shared a thread at once")
        #expect((0..<count).allSatisfy { (0..<threads).contains(ranOn[$0]) })
    }
    #expect(allocations == 0, "\(allocations) allocations in 50 calls")
}

/// Allocates one buffer per item, on whichever thread runs it.
private struct AllocateEach: ParallelWork {
    let threads: UnsafeMutablePointer<Int>
    func run(_ index: Int, thread: Int) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 64 + index, alignment: 8)
        threads[index] = thread
        p.deallocate()
    }
}

/// The counter the allocation tests rely on sees allocations on every pool thread, not only the
/// caller's (a worker that allocated unseen would let a regression through).
@Test func allocationCounterSeesWorkerThreads() {
    #expect(AllocationCounter.isActive)
    let pool = ThreadPool(threadCount: 2)
    let items = 64
    let ranOn = UnsafeMutablePointer<Int>.allocate(capacity: items)
    defer { ranOn.deallocate() }
    var sawWorker = false
    for _ in 0..<20 where !sawWorker {
        let counted = AllocationCounter.count(including: pool) { pool.parallelFor(items, AllocateEach(threads: ranOn)) }
        #expect(counted == items)
        sawWorker = (0..<items).contains { ranOn[$0] == 1 }
    }
    #expect(sawWorker, "the worker never took an item")
}
