import Foundation
public import TramModels

/// Offline batch generation, like vLLM's `LLM.generate`: hand over all prompts, get all outputs.
/// The requests run together through continuous batching on the caller's thread.
public final class LLM {
    public let core: EngineCore

    /// - Parameter draft: the draft model of a draft-model `--speculative-config` (see `EngineCore`).
    public init(model: LoadedModel, configuration: EngineConfiguration = EngineConfiguration(), draft: LoadedModel? = nil) throws(EngineError) {
        core = try EngineCore(model: model, configuration: configuration, draft: draft)
    }

    /// One finished sample of a request.
    public struct Completion: Sendable, Equatable {
        public var index: Int
        public var text: String
        public var tokenIDs: [Int]
        public var finish: Finish
        public var logprobs: [TokenLogprobs]
    }

    /// One request's result: its samples in index order.
    public struct Output: Sendable, Equatable {
        public var requestIndex: Int
        public var promptTokenCount: Int
        public var cachedPromptTokenCount: Int
        public var completions: [Completion]
        public var promptLogprobs: [TokenLogprobs?]?
    }

    /// Generates every request; outputs come back in request order.
    /// - Parameter onStep: called after every engine step with the number of finished requests.
    public func generate(_ requests: [EngineRequest], onStep: (Int) -> Void = { _ in }) throws(EngineError) -> [Output] {
        var outputs = requests.enumerated().map { i, r in
            Output(requestIndex: i, promptTokenCount: r.promptTokenIDs.count, cachedPromptTokenCount: 0, completions: [], promptLogprobs: nil)
        }
        var partial: [Int: [Int: Completion]] = [:]
        for (i, r) in requests.enumerated() {
            do {
                try core.add(r, id: "\(i)")
            } catch {
                for j in 0..<i { core.abort("\(j)") }
                throw error
            }
        }
        var finished = 0
        while core.hasUnfinishedRequests {
            for step in try core.step() {
                guard let i = Int(step.requestID) else { continue }
                let o = step.output
                var c = partial[i, default: [:]][o.index]
                    ?? Completion(index: o.index, text: "", tokenIDs: [], finish: Finish(reason: .abort), logprobs: [])
                c.text += o.text
                c.tokenIDs += o.tokenIDs
                c.logprobs += o.logprobs
                if let f = o.finish { c.finish = f }
                partial[i, default: [:]][o.index] = c
                if let p = o.promptLogprobs { outputs[i].promptLogprobs = p }
                outputs[i].cachedPromptTokenCount = max(outputs[i].cachedPromptTokenCount, o.cachedPromptTokenCount)
                if step.finished {
                    outputs[i].completions = partial.removeValue(forKey: i)?.values.sorted { $0.index < $1.index } ?? []
                    finished += 1
                }
            }
            onStep(finished)
        }
        return outputs
    }
}
