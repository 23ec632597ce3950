import TramModels

/// Turning the scheduler's updates into the outputs the loop hands to each request's stream.
extension EngineCore {
    /// One `StepOutput` per request that produced text, tokens, prompt logprobs or a finish, in
    /// scheduled order. Stop strings found by the detokenizers are reported back to the
    /// scheduler, which frees those requests' blocks.
    func outputs(for updates: [Scheduler.RequestUpdate], plan: StepPlan, sampled: [SampledToken], groups: [Range<Int>])
        -> [StepOutput<RequestOutput>]
    {
        let now = ContinuousClock.now
        let rangeByID = Dictionary(uniqueKeysWithValues: zip(plan.sampledIDs, groups))
        var generatedTokens = 0
        var results: [StepOutput<RequestOutput>] = []
        var stopStringFinished: [RequestID] = []
        for update in updates {
            guard let state = samples[update.id] else { continue }
            var text = ""
            var finish: Finish?
            // The scheduler's verdict belongs to the last token; the detokenizer may still end
            // the request earlier on a stop string.
            let scheduled = update.finish
            for (i, token) in update.newTokenIDs.enumerated() {
                let delta = state.detokenizer.append(Int(token), finish: i == update.newTokenIDs.count - 1 ? scheduled : nil)
                text += delta.text
                if let f = delta.finish {
                    finish = f
                    break
                }
            }
            if collectsIterationStatistics {
                generatedTokens += update.newTokenIDs.count
                state.timing.produced(update.newTokenIDs.count, at: now, into: &iteration)
            }
            if finish != nil, update.finishReason == nil { stopStringFinished.append(update.id) }
            if finish == nil, let scheduled {
                // Finished without a token to carry it (not produced by updateFromOutput today):
                // close the text too.
                text += state.detokenizer.abort().text
                finish = scheduled
            }
            var promptLogprobs: [TokenLogprobs?]?
            if !state.reportedPromptLogprobs, let p = state.promptLogprobs, !update.newTokenIDs.isEmpty || finish != nil {
                promptLogprobs = p
                state.reportedPromptLogprobs = true
            }
            let logprobs = update.newTokenIDs.isEmpty ? []
                : rangeByID[update.id].map { sampled[$0].prefix(update.newTokenIDs.count).compactMap(\.logprobs) } ?? []
            let output = RequestOutput(
                index: state.index, tokenIDs: update.newTokenIDs.map { Int($0) }, text: text, logprobs: logprobs,
                promptLogprobs: promptLogprobs, finish: finish,
                promptTokenCount: parents[state.parent]?.promptTokenCount ?? 0, cachedPromptTokenCount: state.cachedPromptTokens ?? 0)
            let parentFinished = finish.map { sampleFinished(update.id, state, $0, at: now) } ?? false
            if output.tokenIDs.isEmpty, output.text.isEmpty, output.finish == nil, output.promptLogprobs == nil { continue }
            results.append(StepOutput(requestID: state.parent, output: output, finished: parentFinished))
        }
        if !stopStringFinished.isEmpty { _ = scheduler.finishRequests(stopStringFinished, reason: .stop) }
        if collectsIterationStatistics { iteration.stepTokens.append(plan.promptTokens + generatedTokens) }
        return results
    }

    /// The `n` fan-out's bookkeeping: a sample finished; returns whether it was its parent
    /// request's last, which then finishes too.
    private func sampleFinished(_ id: RequestID, _ state: SampleState, _ finish: Finish, at now: ContinuousClock.Instant) -> Bool {
        if collectsIterationStatistics { iteration.finished.append(state.timing.finished(finish.reason, at: now)) }
        samples.removeValue(forKey: id)
        parents[state.parent]?.live.remove(id)
        guard parents[state.parent]?.live.isEmpty ?? true else { return false }
        parents.removeValue(forKey: state.parent)
        statistics.finishedRequests += 1
        return true
    }
}
