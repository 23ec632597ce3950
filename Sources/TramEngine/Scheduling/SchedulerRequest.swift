/// One request as the scheduler sees it: token ids, progress, and the stop conditions the
/// scheduler itself checks (stop strings are the detokenizer's, reported via `finishRequests`).
///
/// Progress over the request's tokens (prompt, then output):
///
///     | prompt                         | output       |
///     | computed (KV in cache)     | to compute       |
///     0                numComputedTokens          numTokens
///
/// After a decode step `numComputedTokens == numTokens - 1`: the newest sampled token is fed in
/// the next step. A preempted request restarts from 0 but keeps its output tokens, which are
/// recomputed as if they were prompt, so the client neither loses nor re-receives text.
package struct SchedulerRequest: Sendable {
    /// Lifecycle. Legal transitions:
    ///
    ///     waiting ──admit──▶ running ──stop/length──▶ finished
    ///                          │  ▲
    ///                  preempt ▼  │ re-admit
    ///                        preempted
    ///     any unfinished ──abort (or a stop found elsewhere)──▶ finished
    ///
    /// A finished request leaves the scheduler in the same call (its `RequestUpdate` carries the
    /// reason), so `.finished` is never observed in `Scheduler.requests`.
    package enum Status: Sendable, Equatable {
        case waiting
        case running
        /// Blocks freed, back at the front of the waiting queue.
        case preempted
        case finished(FinishReason)
    }

    /// Why a request finished (OpenAI `finish_reason`, plus aborts).
    package enum FinishReason: String, Sendable, Equatable {
        /// EOS, a stop token id, or a stop string.
        case stop
        /// `maxTokens` or `maxModelLen` reached.
        case length
        /// Cancelled by the client or the engine.
        case abort
    }

    package let id: RequestID
    /// Prompt then output token ids. // [numTokens]
    package private(set) var tokenIDs: [Int32]
    package let numPromptTokens: Int
    package internal(set) var numComputedTokens = 0
    package let maxTokens: Int
    /// Stop tokens (EOS and `stopTokenIDs`) are ignored until this many tokens are generated.
    package let minTokens: Int
    package let eosTokenID: Int32?
    package let ignoreEOS: Bool
    package let stopTokenIDs: Set<Int32>
    /// Smaller runs first under `.priority`.
    package let priority: Int
    /// Requests with different salts never share cached blocks.
    package let cacheSalt: String?
    package let extraKey: UInt64
    /// Another request with the same prompt whose full prompt blocks this one may share (n > 1).
    package let forkParent: RequestID?
    package internal(set) var status: Status = .waiting
    /// Order of `addRequest`, the FCFS order.
    package internal(set) var arrivalIndex = 0
    package internal(set) var numPreemptions = 0

    package init(
        id: RequestID, promptTokenIDs: [Int32], maxTokens: Int, minTokens: Int = 0,
        eosTokenID: Int32? = nil, ignoreEOS: Bool = false, stopTokenIDs: Set<Int32> = [],
        priority: Int = 0, cacheSalt: String? = nil, forkParent: RequestID? = nil
    ) {
        self.id = id
        tokenIDs = promptTokenIDs
        numPromptTokens = promptTokenIDs.count
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.eosTokenID = eosTokenID
        self.ignoreEOS = ignoreEOS
        self.stopTokenIDs = stopTokenIDs
        self.priority = priority
        self.cacheSalt = cacheSalt
        extraKey = BlockKey.extraKey(salt: cacheSalt)
        self.forkParent = forkParent
    }

    package var numTokens: Int { tokenIDs.count }
    package var numOutputTokens: Int { tokenIDs.count - numPromptTokens }
    package var promptTokenIDs: ArraySlice<Int32> { tokenIDs[..<numPromptTokens] }
    package var outputTokenIDs: ArraySlice<Int32> { tokenIDs[numPromptTokens...] }

    mutating func appendOutputToken(_ token: Int32) {
        tokenIDs.append(token)
    }

    /// The reason to finish after the newest output token, if any (vLLM `check_stop`): length
    /// limits first, then — once `minTokens` are out — EOS unless ignored, then stop token ids.
    func stopReason(maxModelLen: Int) -> (reason: FinishReason, token: Int32?)? {
        if numTokens >= maxModelLen || numOutputTokens >= maxTokens { return (.length, nil) }
        guard numOutputTokens >= minTokens, let last = tokenIDs.last, numOutputTokens > 0 else { return nil }
        if !ignoreEOS, last == eosTokenID { return (.stop, last) }
        if stopTokenIDs.contains(last) { return (.stop, last) }
        return nil
    }
}
