/// Blocks a request can start from instead of computing their tokens: the longest cached chain
/// of its full blocks, or its fork parent's full prompt blocks. It exists so the scheduler can
/// look before it leaps — finding a hit changes nothing; only `KVCacheManager.allocateSlots`
/// takes references to these blocks, and only if the rest of the request's blocks fit too.
package struct PrefixHit: Sendable, Equatable {
    /// Physical blocks, in logical order from the first block of the request.
    package var blockIDs: [Int32]
    /// Cache keys of `blockIDs` when they came from the prefix cache; empty for a fork.
    package var keys: [BlockKey]
    /// Tokens covered by `blockIDs` (`blockIDs.count * blockSize`).
    package var numTokens: Int
    /// Tokens looked up in the prefix cache (the request's length), 0 when no lookup was made;
    /// added to `KVCacheManager.prefixCacheQueries` once the request is admitted.
    package var numQueriedTokens: Int

    package static let none = PrefixHit(blockIDs: [], keys: [], numTokens: 0, numQueriedTokens: 0)
}
