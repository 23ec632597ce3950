import Foundation
import Testing
import TramKernels

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

@Test func poolShutsDown() {
    for _ in 0..<20 {
        let pool = ThreadPool(threadCount: 3)
        pool.parallelFor(10) { _ in }
    }
}
