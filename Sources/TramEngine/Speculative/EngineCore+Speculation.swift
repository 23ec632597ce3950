/// The engine's side of speculative decoding: proposing after each step, counting what the
/// verification accepted.
extension EngineCore {
    /// Proposes the next step's tokens for every decoding request, unless more than
    /// `disableByBatchSize` requests are running (then none: see `SpeculativeConfig`), as many
    /// as `speculationPolicy` finds worth verifying at the request's acceptance rate.
    func propose(_ config: SpeculativeConfig) throws(EngineError) {
        if let draft = draftProposer, draft.numTracked > scheduler.running.count {
            draft.retain { self.scheduler.requests[$0] != nil }
        }
        if acceptance.count > scheduler.running.count { acceptance = acceptance.filter { scheduler.requests[$0.key] != nil } }
        let policy = speculationPolicy!  // set at start-up whenever there is a speculative config
        let running = scheduler.running
        guard !running.isEmpty, running.count <= config.disableByBatchSize else { return }
        var jobs: [DraftModelProposer.Job] = []
        for id in running {
            guard let request = scheduler.requests[id], request.numComputedTokens == request.numTokens - 1 else { continue }
            let allowed = min(config.numSpeculativeTokens, scheduler.maxProposal(request))
            guard allowed > 0 else { continue }
            let limit = policy.proposalLength(acceptance: acceptance[id, default: AcceptanceEstimate()].rate, limit: allowed)
            guard limit > 0 else {
                acceptance[id, default: AcceptanceEstimate()].idle()
                continue
            }
            if draftProposer != nil {
                guard let table = scheduler.reserveProposalSlots(limit, for: id) else { continue }
                jobs.append(.init(id: id, tokens: request.tokenIDs[...], blockTable: table, limit: limit))
            } else {
                let tokens = config.proposer.propose(request.tokenIDs[...], limit: limit)
                if !tokens.isEmpty { scheduler.propose(tokens, for: id) }
            }
        }
        if let draft = draftProposer, !jobs.isEmpty {
            for (job, tokens) in zip(jobs, try draft.propose(jobs)) { scheduler.propose(tokens, for: job.id) }
        }
    }

    /// vLLM's `spec_decode_*` counters for a step that verified proposals: request i accepted
    /// `groups[i].count - 1` of its `plan.draftTokens[i]`.
    func recordSpeculation(_ plan: StepPlan, _ groups: [Range<Int>]) {
        for (i, (drafts, range)) in zip(plan.draftTokens, groups).enumerated() where !drafts.isEmpty {
            let accepted = range.count - 1
            acceptance[plan.sampledIDs[i], default: AcceptanceEstimate()].record(accepted: accepted, proposed: drafts.count)
            statistics.specDecodeNumDrafts += 1
            statistics.specDecodeNumDraftTokens += drafts.count
            statistics.specDecodeNumAcceptedTokens += accepted
            if statistics.specDecodeAcceptedPerPosition.count < drafts.count {
                statistics.specDecodeAcceptedPerPosition += repeatElement(0, count: drafts.count - statistics.specDecodeAcceptedPerPosition.count)
            }
            for p in 0..<accepted { statistics.specDecodeAcceptedPerPosition[p] += 1 }
        }
    }
}
