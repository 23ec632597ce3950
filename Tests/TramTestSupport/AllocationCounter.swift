import CTramAllocationCounter
import Synchronization
public import TramKernels

/// Counts heap allocations, so a test can assert that a hot path (a decode step's forward pass)
/// allocates nothing once its buffers have grown. The count covers the calling thread and, when
/// given, every worker of a kernel pool; allocations of other threads (other tests) are not
/// counted.
public enum AllocationCounter {
    /// False where malloc could not be replaced (non-glibc systems): a count of zero proves
    /// nothing there, so tests must check this first.
    public static var isActive: Bool { tram_allocation_counter_active() != 0 }

    /// Allocations made while `body` runs by this thread and the threads of `pool`.
    public static func count<E: Error>(including pool: ThreadPool? = nil, _ body: () throws(E) -> Void) throws(E) -> Int {
        if let pool { setCounting(true, on: pool) } else { tram_allocation_counting(1) }
        let before = tram_allocation_count()
        do {
            try body()
        } catch {
            tram_allocation_counting(0)
            if let pool { setCounting(false, on: pool) }
            throw error
        }
        let counted = tram_allocation_count() - before
        tram_allocation_counting(0)
        if let pool { setCounting(false, on: pool) }
        return counted
    }

    /// Runs one item on each of the pool's threads (each item waits until all have started, so
    /// no thread can take two) and switches counting on or off there.
    private static func setCounting(_ enabled: Bool, on pool: ThreadPool) {
        let arrived = Atomic<Int>(0)
        let threads = pool.threadCount
        pool.parallelFor(threads) { _ in
            tram_allocation_counting(enabled ? 1 : 0)
            arrived.add(1, ordering: .acquiringAndReleasing)
            while arrived.load(ordering: .acquiring) < threads {}
        }
    }
}
