public import TramModels
public import TramKernels

/// Draft-model proposals (vLLM's `{"model": …}`): a smaller model of the same vocabulary runs
/// k greedy steps ahead of the target for every decoding request, batched across them.
///
/// Its paged KV cache mirrors the target's: the same number of blocks, addressed through the
/// target's block tables, so a block the scheduler allocates, trims or frees does the same for
/// the draft's K and V, and the block budget (`KVCacheSizing`'s `draft:`) covers both. What the
/// draft has computed is tracked per request as the tokens its cache holds (`cached`); before
/// each proposal the part that still agrees with the request's tokens is kept and the rest is
/// recomputed:
///
///     request:  | t0 … t(N-1) | newest |                    (target has KV for t0…t(N-1))
///     draft KV: | agrees (kept) | stale |  → catch-up chunk from the first disagreement
///               through `newest`, whose last row proposes d1; then d1 … d(k-1) one row each
///               (their KV written at positions N+1 … N+k-1, in lookahead slots the engine allocated)
///
/// After verification accepts a of the k proposals, the draft's KV for d1 … d(min(a, k-1))
/// is exactly the KV of the accepted tokens, so nothing is recomputed on the common path; a
/// rejected suffix simply stops agreeing. The agreement test is on token ids at the same
/// positions, which is sound because a request's blocks only change under it by preemption
/// (the engine calls `forget`) or by trimming blocks past its computed tokens (never part of
/// what agrees: proposals past an accepted prefix are rejected, so they differ from the token
/// the target chose there).
///
/// A new request's draft always starts from position 0 — a prefix-cache hit gives the target
/// blocks whose draft half may never have been written — and rewrites the same values into
/// shared blocks (same tokens, same positions, batch-invariant kernels). Proposals are the
/// draft's argmax: a point mass, which `Sampler.verify`'s accept/resample rule assumes; the
/// target's logits processors apply in verification, so exactness does not depend on how
/// good the draft is.
package final class DraftModelProposer {
    package let model: any CausalLM
    let runner: ModelRunner
    /// Per request: the tokens whose K and V the draft's cache holds, positions 0….
    private var cached: [RequestID: [Int32]] = [:]
    /// Longest catch-up chunk per forward pass (a new request's whole prompt arrives at once).
    static let maxChunk = 512

    package init(model: any CausalLM, layout: PagedKVLayout, dtype: KVCacheDType, context: KernelContext) {
        self.model = model
        let draftLayout = PagedKVLayout(numBlocks: layout.numBlocks, blockSize: layout.blockSize,
                                        numKVHeads: model.numKVHeads, headDim: model.headDim)
        runner = ModelRunner(model: model, cache: KVCache(numLayers: model.numLayers, layout: draftLayout, dtype: dtype), context: context)
    }

    /// One decoding request to propose for: its tokens (the last one is the newest, not yet in
    /// the target's cache), block table (covering `tokens.count - 1 + limit` positions), and how
    /// many tokens to propose (at least 1; the engine has already capped it by k and the policy).
    package struct Job {
        package var id: RequestID
        package var tokens: ArraySlice<Int32>
        package var blockTable: [Int32]
        package var limit: Int
    }

    /// The draft's greedy continuations, `limit` tokens per job, in job order.
    package func propose(_ jobs: [Job]) throws(EngineError) -> [[Int32]] {
        guard !jobs.isEmpty else { return [] }
        let blockSize = runner.cache.layout.blockSize
        // Catch-up: from the first position the draft's cache disagrees with the request through
        // the newest token, in chunks; the last chunk's last row proposes d1.
        var proposals = [[Int32]](repeating: [], count: jobs.count)
        var starts = jobs.map { job in commonPrefix(cached[job.id] ?? [], job.tokens) }
        for (i, job) in jobs.enumerated() {
            // The newest token always reruns: its row's logits propose d1.
            starts[i] = min(starts[i], job.tokens.count - 1)
            precondition(job.limit >= 1, "a job proposes at least one token")
            precondition(job.blockTable.count * blockSize >= job.tokens.count - 1 + job.limit, "draft lookahead slots missing")
        }
        var pending = Array(jobs.indices)
        while !pending.isEmpty {
            var chunks: [ModelRunner.Chunk] = []
            var finishing: [Int] = []
            for i in pending {
                let job = jobs[i], base = job.tokens.startIndex
                let end = min(job.tokens.count, starts[i] + Self.maxChunk)
                let last = end == job.tokens.count
                chunks.append(.init(tokens: Array(job.tokens[(base + starts[i])..<(base + end)]), start: starts[i],
                                    blockTable: job.blockTable, logitRows: last ? [end - starts[i] - 1] : []))
                if last { finishing.append(i) }
                starts[i] = end
            }
            try propose(chunks, into: &proposals, rows: finishing)
            pending = pending.filter { starts[$0] < jobs[$0].tokens.count }
        }
        // d2 … dk: one row per job that wants more, fed its previous proposal.
        var active = jobs.indices.filter { jobs[$0].limit > 1 }
        while !active.isEmpty {
            let chunks = active.map { i in
                ModelRunner.Chunk(tokens: [proposals[i].last!], start: jobs[i].tokens.count + proposals[i].count - 1,
                                  blockTable: jobs[i].blockTable, logitRows: [0])
            }
            try propose(chunks, into: &proposals, rows: active)
            active = active.filter { proposals[$0].count < jobs[$0].limit }
        }
        // The cache now holds the request's tokens and every proposal but the last.
        for (i, job) in jobs.enumerated() {
            cached[job.id] = Array(job.tokens) + proposals[i].dropLast()
        }
        return proposals
    }

    /// Runs `chunks` and appends the argmax of logits row r to `proposals[rows[r]]`.
    private func propose(_ chunks: [ModelRunner.Chunk], into proposals: inout [[Int32]], rows: [Int]) throws(EngineError) {
        let vocab = model.vocabularySize
        try runner.execute(chunks) { logits throws(EngineError) in
            for (row, i) in rows.enumerated() {
                proposals[i].append(Int32(Sampler.argmax(UnsafeBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)]))))
            }
        }
    }

    /// Drops what the draft cached for a request: it was preempted (its blocks went back to the
    /// pool) or it is gone.
    package func forget(_ id: RequestID) {
        cached[id] = nil
    }

    /// Forgets every request not in `live`.
    package func retain(_ live: (RequestID) -> Bool) {
        cached = cached.filter { live($0.key) }
    }

    package var numTracked: Int { cached.count }

    private func commonPrefix(_ a: [Int32], _ b: ArraySlice<Int32>) -> Int {
        var n = 0
        let limit = min(a.count, b.count)
        let base = b.startIndex
        while n < limit, a[n] == b[base + n] { n += 1 }
        return n
    }
}
