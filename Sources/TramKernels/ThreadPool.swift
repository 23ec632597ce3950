import CTramKernels
import Foundation

/// A fixed fork/join pool for kernels: `parallelFor` hands indices 0..<count to the calling thread
/// and up to `threadCount − 1` workers, and returns when all are done.
///
/// Why not `DispatchQueue.concurrentPerform`: a decode step makes hundreds of small matmuls, and
/// Dispatch rarely got the second core in time (DESIGN.md). Here workers spin for a short while
/// after each job (so the next call costs about a microsecond), then park on a futex.
/// A call allocates two small objects: `withoutActuallyEscaping` boxes the caller's closure and
/// a reabstraction thunk so workers can call it (measured with a malloc probe; removing them
/// needs a body the pool can reach without storing a closure).
///
/// Protocol. `state` packs (generation: 32 bits | closed: 1 bit | joined workers: 31 bits):
///
///     caller:  job, count, next = 0 → state = (g, open, 0) → signal g (spinners see it; wake
///              parked) → take indices → close (no more joins) → wait until joined == 0
///     worker:  see g → join by CAS (g, open, n) → (g, open, n + 1) → take indices → leave (n − 1)
///
/// Workers join only while the job is open, so a worker the OS has descheduled never holds up
/// the caller: if it wakes after the indices are gone it finds the job closed and goes back to
/// waiting. Indices are taken from an atomic counter, so the work also balances itself.
/// One caller at a time: `parallelFor` is not reentrant and must not be called concurrently.
public final class ThreadPool: @unchecked Sendable {
    /// Threads that may take part in each call, the caller included.
    public let threadCount: Int
    private let core: Core
    private let exited = DispatchGroup()

    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least the calling thread")
        self.threadCount = threadCount
        let core = Core()
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
        private let shared: UnsafeMutableRawPointer
        /// The futex word workers wait on: the latest job's generation.
        private var signal: UnsafeMutablePointer<UInt32> { shared.assumingMemoryBound(to: UInt32.self) }
        /// Workers parked on `signal` (the caller skips the wake syscall when there are none).
        private var sleepers: UnsafeMutablePointer<UInt32> { (shared + 64).assumingMemoryBound(to: UInt32.self) }
        private var state: UnsafeMutablePointer<UInt64> { (shared + 128).assumingMemoryBound(to: UInt64.self) }
        private var next: UnsafeMutablePointer<Int64> { (shared + 192).assumingMemoryBound(to: Int64.self) }
        // Written by the caller before the job opens, read by workers after they join.
        private var count = 0
        private var generation: UInt32 = 0
        private var stopping = false
        private let job: UnsafeMutablePointer<((Int) -> Void)?>

        private static let closed: UInt64 = 1 << 31
        private static let joinedMask: UInt64 = (1 << 31) - 1
        /// PAUSE iterations before a worker parks: tens of microseconds, enough to bridge the gap
        /// between consecutive kernels of one forward pass without burning a core when idle.
        private static let spinsBeforePark = 20_000

        init() {
            shared = .allocate(byteCount: 256, alignment: 64)
            shared.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
            job = .allocate(capacity: 1)
            job.initialize(to: nil)
            state.pointee = Self.closed
        }

        deinit {
            job.deinitialize(count: 1)
            job.deallocate()
            shared.deallocate()
        }

        func stop() {
            stopping = true
            ctram_atomic_add_u32(signal, 1)
            ctram_futex_wake_all(signal)
        }

        func run(_ count: Int, _ body: (Int) -> Void) {
            withoutActuallyEscaping(body) { body in
                job.pointee = body
                self.count = count
                ctram_atomic_store_i64(next, 0)
                generation &+= 1
                ctram_atomic_store_u64(state, UInt64(generation) << 32)
                ctram_atomic_store_u32(signal, generation)
                if ctram_atomic_load_u32(sleepers) != 0 { ctram_futex_wake_all(signal) }
                runIndices(body, count)
                ctram_atomic_or_u64(state, Self.closed)
                var spins = 0
                while ctram_atomic_load_u64(state) & Self.joinedMask != 0 {
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

        /// Joins job `generation` if it is still open, runs indices, leaves. The worker's copy of
        /// the closure is released on return, before it leaves (the caller's
        /// `withoutActuallyEscaping` checks that nothing kept it).
        @inline(never)
        private func joinAndRun(_ generation: UInt32) -> Bool {
            var current = ctram_atomic_load_u64(state)
            while true {
                if current >> 32 != UInt64(generation) || current & Self.closed != 0 { return false }
                if ctram_atomic_cas_u64(state, current, current + 1) { break }
                current = ctram_atomic_load_u64(state)
            }
            if let body = job.pointee { runIndices(body, count) }
            return true
        }

        func workerLoop() {
            var seen: UInt32 = 0
            while true {
                var spins = 0
                while ctram_atomic_load_u32(signal) == seen {
                    if spins < Self.spinsBeforePark {
                        ctram_cpu_relax()
                        spins += 1
                    } else {
                        ctram_atomic_add_u32(sleepers, 1)
                        ctram_futex_wait(signal, seen)
                        ctram_atomic_sub_u32(sleepers, 1)
                    }
                }
                seen = ctram_atomic_load_u32(signal)
                if stopping { return }
                if joinAndRun(seen) { ctram_atomic_sub_u64(state, 1) }
            }
        }
    }
}
