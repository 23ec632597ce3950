import TramModels

/// Reading a step's logits: prompt logprobs and the next token of every sampling request.
extension EngineCore {
    /// Prompt logprobs: row r of a chunk starting at position p predicts the prompt token at
    /// p + r + 1.
    func collectPromptLogprobs(_ plan: StepPlan, _ logits: UnsafeBufferPointer<Float>) {
        let vocab = model.model.vocabularySize
        for entry in plan.entries {
            guard let (first, count) = entry.promptRows, let state = samples[entry.id],
                  let k = state.sampler.parameters.promptLogprobs
            else { continue }
            let prompt = scheduler.requests[entry.id]?.promptTokenIDs ?? []
            for r in 0..<count where first + r + 1 < prompt.count {
                let row = entry.firstRow + r
                let values = UnsafeBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)])
                state.promptLogprobs?.append(Logprobs.of(Int(prompt[prompt.startIndex + first + r + 1]), in: values, topK: k))
            }
        }
    }

    /// Samples the next token of every request whose chunk reached the end of its known tokens,
    /// in `plan.sampledIDs` order. The sampled rows are usually the logits' first rows in order
    /// (no prompt logprobs in the step) and are sampled in place; otherwise they are gathered
    /// into reused scratch.
    func sample(_ plan: StepPlan, _ logits: UnsafeBufferPointer<Float>) -> [SampledToken] {
        let ids = plan.sampledIDs
        guard !ids.isEmpty else { return [] }
        let vocab = model.model.vocabularySize
        var samplers = ids.map { samples[$0]!.sampler }
        let prompts = ids.map { samples[$0]!.promptTokenIDs }
        let outputs = ids.map { samples[$0]!.wantsPenaltyHistory ? samples[$0]!.detokenizer.outputTokenIDs : [] }
        var sampled: [SampledToken] = []
        let rows = ids.count * vocab
        if plan.sampleRowsLeadTheLogits {
            batchSampler.sample(logits: UnsafeBufferPointer(rebasing: logits[..<rows]), vocabularySize: vocab,
                                samplers: &samplers, promptTokenIDs: prompts, outputTokenIDs: outputs, into: &sampled)
        } else {
            if gatheredRows.count < rows { gatheredRows = [Float](repeating: 0, count: rows) }
            var sampler = batchSampler
            gatheredRows.withUnsafeMutableBufferPointer { dst in
                for (i, r) in plan.sampleRows.enumerated() {
                    _ = UnsafeMutableBufferPointer(rebasing: dst[(i * vocab)..<((i + 1) * vocab)])
                        .initialize(from: logits[(r * vocab)..<((r + 1) * vocab)])
                }
                sampler.sample(logits: UnsafeBufferPointer(rebasing: dst[..<rows]), vocabularySize: vocab,
                               samplers: &samplers, promptTokenIDs: prompts, outputTokenIDs: outputs, into: &sampled)
            }
            batchSampler = sampler
        }
        for (id, s) in zip(ids, samplers) { samples[id]?.sampler = s }
        return sampled
    }

    /// Verifies the step's proposals (speculative decoding): for each sampling request, row i
    /// checks proposal i with `Sampler.verify`; the first rejection yields the resampled token
    /// and ends the request's tokens, and when every proposal is accepted the last row samples
    /// one more. Rows are taken in order, so penalties, min_tokens and a logits processor see
    /// exactly the accepted tokens before each. Appends to `sampled`; `groups[i]` is request i's
    /// range of it (accepted proposals, then the token sampled after them).
    func verify(_ plan: StepPlan, _ logits: UnsafeBufferPointer<Float>, into sampled: inout [SampledToken], groups: inout [Range<Int>]) {
        let vocab = model.model.vocabularySize
        var workspace = SamplerWorkspace()
        swap(&workspace, &batchSampler.workspace)
        defer { swap(&workspace, &batchSampler.workspace) }
        for (i, id) in plan.sampledIDs.enumerated() {
            let state = samples[id]!
            var sampler = state.sampler
            var history = state.wantsPenaltyHistory ? state.detokenizer.outputTokenIDs : []
            let first = sampled.count
            var row = plan.sampleRows[i]
            func rowLogits(_ r: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: logits[(r * vocab)..<((r + 1) * vocab)]) }
            var allAccepted = true
            for draft in plan.draftTokens[i] {
                let (token, accepted) = sampler.verify(draft: Int(draft), rowLogits(row), promptTokenIDs: state.promptTokenIDs,
                                                       outputTokenIDs: history, workspace: &workspace)
                sampled.append(token)
                row += 1
                if !accepted {
                    allAccepted = false
                    break
                }
                if state.wantsPenaltyHistory { history.append(token.tokenID) }
            }
            if allAccepted {
                sampled.append(sampler.sample(rowLogits(row), promptTokenIDs: state.promptTokenIDs, outputTokenIDs: history,
                                              workspace: &workspace))
            }
            state.sampler = sampler
            groups.append(first..<sampled.count)
        }
    }
}
