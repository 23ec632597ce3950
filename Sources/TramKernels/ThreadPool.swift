import CTramKernels
import Foundation

/// A fixed fork/join pool for kernels: `parallelFor` hands indices 0..<count to the calling thread
/// and `threadCount − 1` workers, and returns when all are done.
///
/// Why not `DispatchQueue.concurrentPerform`: a decode step makes hundreds of small matmuls, and
/// Dispatch rarely got the second core in time (DESIGN.md). Here workers spin for a short while
/// after each job (so the next call costs well under a microsecond to start), then park on a futex.
/// A call allocates nothing.
///
/// Protocol (counters in one shared block, on separate cache lines):
///
///     caller:  job, count, next = 0, pending = workers  →  generation += 1  →  wake parked
///              → take indices  →  spin until pending == 0  →  clear job
///     worker:  wait for generation change (spin, then futex) → take indices → pending −= 1
///
/// Indices are taken with an atomic counter, so a worker the OS delays just takes fewer.
/// One caller at a time: `parallelFor` is not reentrant and must not be called concurrently.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in each call, the caller included.
    public let threadCount: Int
    private let core: Core
    private let exited = DispatchGroup()

    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least the calling thread")
        self.threadCount = threadCount
        let core = Core(workers: threadCount - 1)
        self.core = core
        for index in 1..<threadCount {
            exited.enter()
            let exited = self.exited
            // Workers hold the core, never the pool, so dropping the pool stops them.
            let thread = Thread {
                core.workerLoop()
                exited.leave()
            }
            thread.name = "tram-kernel-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        core.stop()
        exited.wait()
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool; returns when all are done.
    /// Each index runs exactly once, on some thread, in no particular order.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        core.run(count, body)
    }
}

extension ThreadPool {
    fileprivate final class Core: @unchecked Sendable {
        let workers: Int
        private let shared: UnsafeMutableRawPointer
        private var generation: UnsafeMutablePointer<UInt32> { shared.assumingMemoryBound(to: UInt32.self) }
        private var pending: UnsafeMutablePointer<UInt32> { (shared + 64).assumingMemoryBound(to: UInt32.self) }
        private var sleepers: UnsafeMutablePointer<UInt32> { (shared + 128).assumingMemoryBound(to: UInt32.self) }
        private var next: UnsafeMutablePointer<Int64> { (shared + 192).assumingMemoryBound(to: Int64.self) }
        // Written by the caller before the generation bump, read by workers after it.
        private var count = 0
        private var stopping = false
        private let job: UnsafeMutablePointer<((Int) -> Void)?>

        /// PAUSE iterations before a worker parks: tens of microseconds, enough to bridge the gap
        /// between consecutive kernels of one forward pass without burning a core when idle.
        private static let spinsBeforePark = 20_000

        init(workers: Int) {
            self.workers = workers
            shared = .allocate(byteCount: 256, alignment: 64)
            shared.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
            job = .allocate(capacity: 1)
            job.initialize(to: nil)
        }

        deinit {
            job.deinitialize(count: 1)
            job.deallocate()
            shared.deallocate()
        }

        func stop() {
            stopping = true
            ctram_atomic_add_u32(generation, 1)
            ctram_futex_wake_all(generation)
        }

        func run(_ count: Int, _ body: (Int) -> Void) {
            withoutActuallyEscaping(body) { body in
                job.pointee = body
                self.count = count
                ctram_atomic_store_i64(next, 0)
                ctram_atomic_store_u32(pending, UInt32(workers))
                ctram_atomic_add_u32(generation, 1)
                if ctram_atomic_load_u32(sleepers) != 0 { ctram_futex_wake_all(generation) }
                runIndices(body, count)
                var spins = 0
                while ctram_atomic_load_u32(pending) != 0 {
                    spins += 1
                    if spins < 1 << 16 { ctram_cpu_relax() } else { sched_yield() }
                }
                job.pointee = nil
            }
        }

        @inline(__always)
        private func runIndices(_ body: (Int) -> Void, _ count: Int) {
            while true {
                let i = Int(ctram_atomic_add_i64(next, 1))
                if i >= count { return }
                body(i)
            }
        }

        /// Runs the current job; its own copy of the closure is released on return, before the
        /// worker reports done (the caller's `withoutActuallyEscaping` checks nothing kept it).
        @inline(never)
        private func runJob() {
            guard let body = job.pointee else { return }
            runIndices(body, count)
        }

        func workerLoop() {
            var seen: UInt32 = 0
            while true {
                var spins = 0
                while ctram_atomic_load_u32(generation) == seen {
                    if spins < Self.spinsBeforePark {
                        ctram_cpu_relax()
                        spins += 1
                    } else {
                        ctram_atomic_add_u32(sleepers, 1)
                        ctram_futex_wait(generation, seen)
                        ctram_atomic_sub_u32(sleepers, 1)
                    }
                }
                seen = ctram_atomic_load_u32(generation)
                if stopping { return }
                runJob()
                ctram_atomic_sub_u32(pending, 1)
            }
        }
    }
}
