internal import Foundation

/// Token ids of pre-token words already encoded, shared by every caller of one tokenizer.
///
/// Text repeats words, so most pieces skip the merge loop. The cache is bounded: when it holds
/// `capacity` words it is emptied rather than managed as an LRU, which keeps hits cheap and
/// costs one refill.
final class WordCache: @unchecked Sendable {
    // @unchecked: `entries` is only touched while holding `lock`.
    private let lock = NSLock()
    private var entries: [ByteString: [Int32]] = [:]
    private let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    func ids(for word: ByteString) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[word]
    }

    func store(_ ids: [Int32], for word: ByteString) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[word] = ids
    }
}
