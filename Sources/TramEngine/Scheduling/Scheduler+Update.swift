extension Scheduler {
    /// What one step changed for one request, for the engine to turn into a client delta.
    package struct RequestUpdate: Sendable, Equatable {
        package var id: RequestID
        /// Tokens generated this step (after any stop token, nothing). // [0...sampled]
        package var newTokenIDs: [Int32]
        /// Set when the request finished this step; its blocks are already freed.
        package var finishReason: FinishReason?
        /// The EOS or stop token id that finished it (included in `newTokenIDs`).
        package var stopTokenID: Int32?
        /// Whether `stopTokenID` is an EOS id.
        package var stoppedByEOS: Bool

        package init(id: RequestID, newTokenIDs: [Int32], finishReason: FinishReason?, stopTokenID: Int32?, stoppedByEOS: Bool = false) {
            self.id = id
            self.newTokenIDs = newTokenIDs
            self.finishReason = finishReason
            self.stopTokenID = stopTokenID
            self.stoppedByEOS = stoppedByEOS
        }

        /// The finish as the client sees it (see `SchedulerRequest.TokenStop.finish`).
        package var finish: Finish? {
            finishReason.map { SchedulerRequest.TokenStop(reason: $0, token: stopTokenID, isEOS: stoppedByEOS).finish }
        }
    }

    /// Takes back a step: every scheduled request's `numComputedTokens` advances by what it was
    /// given and its newly full blocks enter the prefix cache. Requests whose known tokens are
    /// now all computed take their sampled tokens (a prompt chunk that does not finish the prompt
    /// produces none, and anything sampled for it is ignored), then the stop checks run after
    /// each token. Requests finished or aborted since `schedule()` are skipped.
    ///
    /// Returns one update per request that produced tokens or finished, in scheduled order.
    package mutating func updateFromOutput(_ output: SchedulerOutput, sampledTokens: [RequestID: [Int32]]) -> [RequestUpdate] {
        var updates: [RequestUpdate] = []
        for item in output.scheduled {
            guard var request = requests[item.id], request.status == .running,
                  request.numComputedTokens == item.numComputedTokens
            else { continue }
            request.specTokenIDs = []
            // Proposed tokens are computed only as far as they are accepted (below).
            request.numComputedTokens += item.numNewTokens - item.numSpecTokens
            guard request.numComputedTokens >= request.numTokens else {
                kvCache.cacheFullBlocks(
                    for: item.id, tokens: request.tokenIDs, numComputedTokens: request.numComputedTokens, extraKey: request.extraKey)
                requests[item.id] = request
                continue
            }
            var update = RequestUpdate(id: item.id, newTokenIDs: [], finishReason: nil, stopTokenID: nil)
            // With proposals verified, the sampled tokens are the accepted proposals (their KV is
            // computed), then one token sampled from the row after the last accepted one.
            let sampled = sampledTokens[item.id] ?? []
            for (i, token) in sampled.enumerated() {
                update.newTokenIDs.append(token)
                if i < min(sampled.count - 1, item.numSpecTokens) { request.numComputedTokens += 1 }
                if let stop = request.append(token, maxModelLen: config.maxModelLen) {
                    update.finishReason = stop.reason
                    update.stopTokenID = stop.token
                    update.stoppedByEOS = stop.isEOS
                    break
                }
            }
            kvCache.cacheFullBlocks(
                for: item.id, tokens: request.tokenIDs, numComputedTokens: request.numComputedTokens, extraKey: request.extraKey)
            // Rejected proposals' slots: blocks past the ones the request's tokens need are freed.
            if item.numSpecTokens > 0, update.finishReason == nil { kvCache.trim(item.id, toTokens: request.numTokens) }
            requests[item.id] = request
            if update.finishReason != nil { finish(item.id) }
            if !update.newTokenIDs.isEmpty || update.finishReason != nil { updates.append(update) }
        }
        return updates
    }
}
