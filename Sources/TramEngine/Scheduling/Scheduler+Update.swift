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
            request.numComputedTokens += item.numNewTokens
            kvCache.cacheFullBlocks(
                for: item.id, tokens: request.tokenIDs, numComputedTokens: request.numComputedTokens, extraKey: request.extraKey)
            guard request.numComputedTokens >= request.numTokens else {
                requests[item.id] = request
                continue
            }
            var update = RequestUpdate(id: item.id, newTokenIDs: [], finishReason: nil, stopTokenID: nil)
            for token in sampledTokens[item.id] ?? [] {
                update.newTokenIDs.append(token)
                if let stop = request.append(token, maxModelLen: config.maxModelLen) {
                    update.finishReason = stop.reason
                    update.stopTokenID = stop.token
                    update.stoppedByEOS = stop.isEOS
                    break
                }
            }
            requests[item.id] = request
            if update.finishReason != nil { finish(item.id) }
            if !update.newTokenIDs.isEmpty || update.finishReason != nil { updates.append(update) }
        }
        return updates
    }
}
