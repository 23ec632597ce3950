/// One request as the scheduler sees it: token ids, progress, and its token-level stop
/// conditions — EOS, stop token ids, `max_tokens`, `max_model_len` — which the scheduler alone
/// decides, as vLLM's `check_stop` does. Stop strings are the detokenizer's (text-level),
/// reported back via `Scheduler.finishRequests`.
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

    package let id: RequestID
    /// Prompt then output token ids. // [numTokens]
    package private(set) var tokenIDs: [Int32]
    package let numPromptTokens: Int
    package internal(set) var numComputedTokens = 0
    package let maxTokens: Int
    /// Stop tokens (EOS and `stopTokenIDs`) are ignored until this many tokens are generated.
    package let minTokens: Int
    /// The model's EOS ids; empty with `ignore_eos`. A stop on one has no `stop_reason`.
    package let eosTokenIDs: Set<Int32>
    /// `stop_token_ids`: a stop on one reports the id as `stop_reason`.
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
    /// Proposed continuation (speculative decoding) verified by the next step, set by
    /// `Scheduler.propose` while the request decodes; never part of `tokenIDs`, and cleared by
    /// every step's update and by preemption.
    package internal(set) var specTokenIDs: [Int32] = []

    package init(
        id: RequestID, promptTokenIDs: [Int32], maxTokens: Int, minTokens: Int = 0,
        eosTokenIDs: Set<Int32> = [], stopTokenIDs: Set<Int32> = [],
        priority: Int = 0, cacheSalt: String? = nil, forkParent: RequestID? = nil
    ) {
        self.id = id
        tokenIDs = promptTokenIDs
        numPromptTokens = promptTokenIDs.count
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.eosTokenIDs = eosTokenIDs
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

    /// A request for `parameters` (the production mapping, shared by the engine and the tests):
    /// EOS ids apply unless `ignore_eos`, `stop_token_ids` as given.
    package init(id: RequestID, promptTokenIDs: [Int32], parameters p: SamplingParameters, eosTokenIDs: Set<Int>, maxTokens: Int,
                 priority: Int = 0, cacheSalt: String? = nil, forkParent: RequestID? = nil) {
        self.init(id: id, promptTokenIDs: promptTokenIDs, maxTokens: maxTokens, minTokens: p.minTokens,
                  eosTokenIDs: p.ignoreEOS ? [] : Set(eosTokenIDs.map { Int32($0) }), stopTokenIDs: Set(p.stopTokenIDs.map { Int32($0) }),
                  priority: priority, cacheSalt: cacheSalt, forkParent: forkParent)
    }

    /// Why a request ends on its newest token.
    package struct TokenStop: Sendable, Equatable {
        package var reason: FinishReason
        /// The EOS or stop token id that ended it (nil for `.length`).
        package var token: Int32?
        /// Whether `token` is an EOS id (no `stop_reason` then, as in vLLM).
        package var isEOS: Bool

        /// As the client sees it: `stop_reason` is the stop token id, nil for EOS and length.
        package var finish: Finish {
            Finish(reason: reason, stopReason: reason == .stop && !isEOS ? token.map { .tokenID(Int($0)) } : nil)
        }
    }

    /// Appends a sampled token and decides whether the request ends on it.
    package mutating func append(_ token: Int32, maxModelLen: Int) -> TokenStop? {
        tokenIDs.append(token)
        return stop(maxModelLen: maxModelLen)
    }

    /// The reason to finish after the newest output token, if any (vLLM `check_stop`): length
    /// limits first, then — once `minTokens` are out — EOS unless ignored, then stop token ids.
    func stop(maxModelLen: Int) -> TokenStop? {
        if numTokens >= maxModelLen || numOutputTokens >= maxTokens { return TokenStop(reason: .length, token: nil, isEOS: false) }
        guard numOutputTokens >= minTokens, let last = tokenIDs.last, numOutputTokens > 0 else { return nil }
        if eosTokenIDs.contains(last) { return TokenStop(reason: .stop, token: last, isEOS: true) }
        if stopTokenIDs.contains(last) { return TokenStop(reason: .stop, token: last, isEOS: false) }
        return nil
    }
}
