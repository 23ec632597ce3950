/// An async semaphore: at most `limit` holders at once, waiters admitted in arrival order.
/// `--max-concurrency` holds requests here after their scheduled arrival, as vLLM's
/// `asyncio.Semaphore` does, so the rate sets when a request is ready and this when it is sent.
package actor ConcurrencyLimiter {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    package init(limit: Int) {
        precondition(limit > 0, "validated by the caller")
        available = limit
    }

    package func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Hands the slot to the longest waiter, or frees it.
    package func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
