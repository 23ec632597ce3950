import CTramKernels
import Foundation

/// A fixed fork/join pool for kernels: `parallelFor` hands indices 0..<count to the calling thread
/// and up to `threadCount − 1` workers, and returns when all are done.
///
/// Why not `DispatchQueue.concurrentPerform`: a decode step makes hundreds of small matmuls, and
/// Dispatch rarely got the second core in time (DESIGN.md). Here workers spin for a short while
/// after each job (so the next call costs about a microsecond), then park on a futex.
/// A call with a `ParallelWork` allocates nothing: the pool hands workers a pointer to the
/// caller's work value and its type, and each worker calls it through the type. (A closure
/// cannot be handed over that way: `withoutActuallyEscaping` boxes it, one allocation per call,
/// so the closure form is for cold paths.)
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

    /// - Parameter name: the workers' thread names are `name-1`, `name-2`, … (as `top -H` shows them).
    public init(threadCount: Int, name: String = "tram-kernel") {
        precondition(threadCount >= 1, "a pool needs at least the calling thread")
        self.threadCount = threadCount
        let core = Core()
        self.core = core
        for index in 1..<threadCount {
            exited.enter()
            let exited = self.exited
            // Workers hold the core, never the pool, so dropping the pool stops them.
            let threadName = "\(name)-\(index)"
            let thread = Thread {
                // Foundation's `Thread.name` does not reach the OS on Linux.
                ctram_set_thread_name(threadName)
                core.workerLoop(thread: index)
                exited.leave()
            }
            thread.name = threadName
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        core.stop()
        exited.wait()
    }

    /// Runs `work.run(i, thread:)` for every i in 0..<count, spread over the pool; returns when
    /// all are done. Each index runs exactly once, on some thread, in no particular order.
    /// Allocates nothing.
    public func parallelFor<Work: ParallelWork>(_ count: Int, _ work: Work) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { work.run(i, thread: 0) }
            return
        }
        withUnsafePointer(to: work) { pointer in
            core.open(count, UnsafeRawPointer(pointer), Work.self)
            while let i = core.nextIndex() { pointer.pointee.run(i, thread: 0) }
            core.close()
        }
    }

    /// `parallelFor` with a closure: the same, but a call allocates one object (the box
    /// `withoutActuallyEscaping` makes), so hot paths pass a `ParallelWork` instead.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in parallelFor(count, ClosureWork(body: body)) }
    }
}

/// The items of one `ThreadPool.parallelFor` call: a value holding what they read (pointers,
/// sizes), whose `run(i, thread:)` does item i. Items run concurrently on several threads, so
/// `run` may only write where no other item does.
public protocol ParallelWork {
    /// Does item `index` on pool thread `thread`: 0 is the caller, workers are 1..<threadCount.
    /// A thread runs one item at a time, so scratch indexed by `thread` is never shared.
    func run(_ index: Int, thread: Int)
}

extension ParallelWork {
    /// Item `index` of the work at `pointer`: how a worker, which knows the work only by its
    /// type, calls it.
    fileprivate static func run(at pointer: UnsafeRawPointer, _ index: Int, thread: Int) {
        pointer.assumingMemoryBound(to: Self.self).pointee.run(index, thread: thread)
    }
}

private struct ClosureWork: ParallelWork {
    let body: (Int) -> Void
    func run(_ index: Int, thread _: Int) { body(index) }
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
        /// The open job's work: a pointer into the caller's frame and the work's type.
        private var work: UnsafeRawPointer?
        private var workType: (any ParallelWork.Type)?

        private static let closed: UInt64 = 1 << 31
        private static let joinedMask: UInt64 = (1 << 31) - 1
        /// PAUSE iterations before a worker parks: tens of microseconds, enough to bridge the gap
        /// between consecutive kernels of one forward pass without burning a core when idle.
        private static let spinsBeforePark = 20_000

        init() {
            shared = .allocate(byteCount: 256, alignment: 64)
            shared.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
            state.pointee = Self.closed
        }

        deinit {
            shared.deallocate()
        }

        func stop() {
            stopping = true
            ctram_atomic_add_u32(signal, 1)
            ctram_futex_wake_all(signal)
        }

        /// Publishes a job of `count` indices over the work at `pointer` and wakes the workers.
        /// The caller then takes indices with `nextIndex()` and ends with `close()`.
        func open(_ count: Int, _ pointer: UnsafeRawPointer, _ type: any ParallelWork.Type) {
            work = pointer
            workType = type
            self.count = count
            ctram_atomic_store_i64(next, 0)
            generation &+= 1
            ctram_atomic_store_u64(state, UInt64(generation) << 32)
            ctram_atomic_store_u32(signal, generation)
            if ctram_atomic_load_u32(sleepers) != 0 { ctram_futex_wake_all(signal) }
        }

        /// The next index not yet taken, or nil when all are.
        @inline(__always)
        func nextIndex() -> Int? {
            let i = Int(ctram_atomic_add_i64(next, 1))
            return i < count ? i : nil
        }

        /// Stops workers joining and waits for those that joined to finish their indices.
        func close() {
            ctram_atomic_or_u64(state, Self.closed)
            var spins = 0
            while ctram_atomic_load_u64(state) & Self.joinedMask != 0 {
                spins += 1
                if spins < 1 << 16 { ctram_cpu_relax() } else { sched_yield() }
            }
            work = nil
            workType = nil
        }

        /// Joins job `generation` if it is still open and runs indices; the caller of this leaves.
        /// `work` stays valid while the worker is joined: `close()` waits for it.
        @inline(never)
        private func joinAndRun(_ generation: UInt32, thread: Int) -> Bool {
            var current = ctram_atomic_load_u64(state)
            while true {
                if current >> 32 != UInt64(generation) || current & Self.closed != 0 { return false }
                if ctram_atomic_cas_u64(state, current, current + 1) { break }
                current = ctram_atomic_load_u64(state)
            }
            if let work, let workType {
                while let i = nextIndex() { workType.run(at: work, i, thread: thread) }
            }
            return true
        }

        func workerLoop(thread: Int) {
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
                if joinAndRun(seen, thread: thread) { ctram_atomic_sub_u64(state, 1) }
            }
        }
    }
}
