import Foundation
import Testing
import TramKernels

@Test(.enabled(if: ProcessInfo.processInfo.environment["TRAM_KERNEL_BENCH"] != nil))
func poolProbe() {
    let pool = ThreadPool(threadCount: 2)
    let counter = UnsafeMutablePointer<Int>.allocate(capacity: 2)
    counter.initialize(repeating: 0, count: 2)
    for round in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<20_000 { pool.parallelFor(2) { i in counter[i] += 1 } }
        print(String(format: "round %d: %.2f µs/call", round, Double(DispatchTime.now().uptimeNanoseconds - start) / 2e7))
    }
}
