package import TramRandom
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks one request's next token from its row of logits. One `Sampler` lives as long as its
/// request: it holds the parameters and the request's own random generator, so a seeded request
/// draws the same tokens whatever else shares the batch (each row consumes exactly one number
/// from its own generator per random draw, none when greedy).
///
/// The pipeline, in vLLM V1's order (`vllm/v1/sample/sampler.py`):
///
///     raw logits ──► logprobs (from the raw logits: vLLM's default `raw_logprobs` mode)
///          │
///          ▼ copy into scratch
///     the request's LogitsProcessor (a grammar's mask) → logit_bias → min_tokens mask
///     (EOS + stop ids) → repetition / frequency / presence
///          │
///          ├─ greedy (temperature < 1e-5): argmax, ties → lowest id
///          ▼
///     temperature → min-p → top-k → top-p → draw (inverse CDF with the request's generator)
///
/// The caller's logits are never modified. Scratch comes from a `SamplerWorkspace`, so nothing
/// is allocated per token once it has grown to the vocabulary (logprobs, when asked for,
/// allocate their small result arrays).
public struct Sampler: @unchecked Sendable {
    public let parameters: SamplingParameters
    /// The request's own rule over the logits, when it has one (engine thread only: this is
    /// why the sampler is only unchecked-Sendable).
    public let logitsProcessor: (any LogitsProcessor)?
    /// Ids the min-tokens processor masks: the stop token ids, plus EOS unless `ignoreEOS`.
    package let minTokensMask: [Int]
    package var generator: Xoshiro256
    /// Scratch for the single-row `sample(_:)`; the batched path passes its own.
    private var ownWorkspace = SamplerWorkspace()

    /// - Parameter eosTokenIDs: the model's end-of-sequence ids (tokenizer and
    ///   generation_config), masked while the output is shorter than `minTokens`.
    public init(parameters: SamplingParameters, eosTokenIDs: Set<Int> = [], logitsProcessor: (any LogitsProcessor)? = nil) {
        self.parameters = parameters
        self.logitsProcessor = logitsProcessor
        var mask = Set(parameters.stopTokenIDs)
        if !parameters.ignoreEOS { mask.formUnion(eosTokenIDs) }
        minTokensMask = mask.sorted()
        var system = SystemRandomNumberGenerator()
        generator = Xoshiro256(seed: parameters.seed ?? system.next())
    }

    /// The index of the largest logit; ties go to the lowest id.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        LogitsProcessors.argmax(logits)
    }

    /// Samples from one row with no token history (penalties and min_tokens see an empty prompt
    /// and output).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        sample(logits, promptTokenIDs: [], outputTokenIDs: []).tokenID
    }

    /// Samples from one row, using scratch the sampler keeps for itself.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, promptTokenIDs: [Int], outputTokenIDs: [Int]) -> SampledToken {
        var workspace = SamplerWorkspace()
        swap(&workspace, &ownWorkspace)
        defer { swap(&workspace, &ownWorkspace) }
        return sample(logits, promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs, workspace: &workspace)
    }

    /// Samples the next token from `logits` (`[vocab]`, the request's row of this step).
    /// - Parameters:
    ///   - promptTokenIDs: the request's prompt (repetition penalty).
    ///   - outputTokenIDs: the tokens generated so far (penalties, min_tokens).
    public mutating func sample(
        _ logits: UnsafeBufferPointer<Float>, promptTokenIDs: [Int], outputTokenIDs: [Int],
        workspace: inout SamplerWorkspace
    ) -> SampledToken {
        guard !logits.isEmpty else { return SampledToken(tokenID: 0, logprobs: nil) }
        let id = workspace.withScratch(logits) { work, counts, candidates in
            if let greedy = process(work, counts: counts, promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs) {
                return greedy
            }
            guard let kept = truncate(UnsafeBufferPointer(work), candidates: candidates) else {
                return LogitsProcessors.argmax(UnsafeBufferPointer(work))
            }
            return TopKTopP.draw(kept, coin: generator.nextUnitFloat())
        }
        logitsProcessor?.accept(id)
        let logprobs = parameters.logprobs.map { Logprobs.of(id, in: logits, topK: $0) }
        return SampledToken(tokenID: id, logprobs: logprobs)
    }

    /// Speculative verification of one proposed token (a point-mass proposal: n-gram, or a
    /// greedy draft model) against this row, with the standard accept/resample rule, so the
    /// token returned has exactly the distribution `sample` draws from:
    /// - greedy: the argmax; the proposal is accepted when it is the argmax;
    /// - sampled: accepted with probability p(draft) under the processed distribution p; when
    ///   rejected, a draw from p with the draft removed and renormalised (max(0, p − q) for a
    ///   one-hot q). Accept-or-draw gives P(x) = p(d)·[x = d] + (1 − p(d))·p(x)/(1 − p(d)) for
    ///   x ≠ d, which is p(x).
    /// The logits processor is told of the token returned, as by `sample`; so are logprobs.
    public mutating func verify(
        draft: Int, _ logits: UnsafeBufferPointer<Float>, promptTokenIDs: [Int], outputTokenIDs: [Int],
        workspace: inout SamplerWorkspace
    ) -> (token: SampledToken, accepted: Bool) {
        guard !logits.isEmpty else { return (SampledToken(tokenID: 0, logprobs: nil), false) }
        let id = workspace.withScratch(logits) { work, counts, candidates in
            if let greedy = process(work, counts: counts, promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs) {
                return greedy
            }
            guard let kept = truncate(UnsafeBufferPointer(work), candidates: candidates) else {
                return LogitsProcessors.argmax(UnsafeBufferPointer(work))
            }
            var maxLogit = -Float.infinity
            for c in kept { maxLogit = max(maxLogit, c.logit) }
            var total: Float = 0
            var draftIndex: Int?
            var draftWeight: Float = 0
            for (i, c) in kept.enumerated() {
                let e = expf(c.logit - maxLogit)
                total += e
                if Int(c.id) == draft {
                    draftIndex = i
                    draftWeight = e
                }
            }
            let coin = generator.nextUnitFloat()
            guard let j = draftIndex else { return TopKTopP.draw(kept, coin: generator.nextUnitFloat()) }
            if coin < draftWeight / total || kept.count == 1 { return draft }
            kept.swapAt(j, kept.count - 1)
            return TopKTopP.draw(UnsafeMutableBufferPointer(rebasing: kept[0..<(kept.count - 1)]), coin: generator.nextUnitFloat())
        }
        logitsProcessor?.accept(id)
        let logprobs = parameters.logprobs.map { Logprobs.of(id, in: logits, topK: $0) }
        return (SampledToken(tokenID: id, logprobs: logprobs), id == draft)
    }

    /// The distribution `sample` draws from, as probabilities over the vocabulary (one-hot when
    /// greedy); it consumes no randomness. For tests and debugging.
    package func probabilities(_ logits: UnsafeBufferPointer<Float>, promptTokenIDs: [Int] = [], outputTokenIDs: [Int] = []) -> [Float] {
        var workspace = SamplerWorkspace()
        var out = [Float](repeating: 0, count: logits.count)
        guard !logits.isEmpty else { return out }
        workspace.withScratch(logits) { work, counts, candidates in
            if let greedy = process(work, counts: counts, promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs) {
                out[greedy] = 1
                return
            }
            guard let kept = truncate(UnsafeBufferPointer(work), candidates: candidates) else {
                out[LogitsProcessors.argmax(UnsafeBufferPointer(work))] = 1
                return
            }
            let maxLogit = kept.reduce(-Float.infinity) { max($0, $1.logit) }
            let total = kept.reduce(Float(0)) { $0 + expf($1.logit - maxLogit) }
            for c in kept { out[Int(c.id)] = expf(c.logit - maxLogit) / total }
        }
        return out
    }

    /// logit_bias → min_tokens → penalties, then the argmax when greedy (returned), else the
    /// temperature (nil returned, `work` scaled).
    private func process(
        _ work: UnsafeMutableBufferPointer<Float>, counts: UnsafeMutableBufferPointer<Int32>,
        promptTokenIDs: [Int], outputTokenIDs: [Int]
    ) -> Int? {
        let p = parameters
        logitsProcessor?.apply(to: work)
        if !p.logitBias.isEmpty { LogitsProcessors.applyLogitBias(work, p.logitBias) }
        if outputTokenIDs.count < p.minTokens { LogitsProcessors.mask(work, ids: minTokensMask) }
        if p.hasPenalties {
            LogitsProcessors.applyPenalties(
                work, promptTokenIDs: promptTokenIDs, outputTokenIDs: outputTokenIDs,
                repetition: Float(p.repetitionPenalty), frequency: Float(p.frequencyPenalty),
                presence: Float(p.presencePenalty), counts: counts)
        }
        if p.isGreedy { return LogitsProcessors.argmax(UnsafeBufferPointer(work)) }
        if p.temperature != 1 { LogitsProcessors.applyTemperature(work, Float(p.temperature)) }
        return nil
    }

    /// min-p → top-k → top-p over the temperature-scaled row: the kept candidates, or nil when
    /// no logit is finite.
    private func truncate(_ work: UnsafeBufferPointer<Float>, candidates: UnsafeMutableBufferPointer<Candidate>)
        -> UnsafeMutableBufferPointer<Candidate>?
    {
        var maxLogit = -Float.infinity
        for v in work where v > maxLogit { maxLogit = v }
        guard maxLogit.isFinite else { return nil }
        // min-p keeps p(i) ≥ minP · p(max), i.e. logit(i) ≥ max + log(minP).
        let floor = parameters.minP > 0 ? maxLogit + Float(log(parameters.minP)) : -Float.infinity
        var n = 0
        for i in work.indices {
            let v = work[i]
            if v >= floor, v > -Float.infinity {
                candidates[n] = Candidate(logit: v, id: Int32(i))
                n += 1
            }
        }
        let pool = UnsafeMutableBufferPointer(rebasing: candidates[0..<n])
        let kept = TopKTopP.truncate(pool, topK: parameters.effectiveTopK, topP: Float(parameters.topP))
        return UnsafeMutableBufferPointer(rebasing: pool[kept])
    }
}

/// What the sampler returns for one row.
public struct SampledToken: Sendable, Equatable {
    public var tokenID: Int
    /// Present when the request asked for `logprobs`: the sampled token's logprob and rank, and
    /// the top-`logprobs` alternatives, all from the raw logits.
    public var logprobs: TokenLogprobs?

    public init(tokenID: Int, logprobs: TokenLogprobs?) {
        self.tokenID = tokenID
        self.logprobs = logprobs
    }
}

/// Scratch buffers sized to the vocabulary, reused for every row sampled on one thread.
public struct SamplerWorkspace: Sendable {
    /// [vocab] the row being processed.
    var work: [Float] = []
    /// [vocab] all zero between calls; occurrence counts for the penalties.
    var counts: [Int32] = []
    /// [vocab] tokens still in the running for the draw.
    var candidates: [Candidate] = []

    public init() {}

    mutating func reserve(vocabularySize vocab: Int) {
        guard work.count < vocab else { return }
        work = [Float](repeating: 0, count: vocab)
        counts = [Int32](repeating: 0, count: vocab)
        candidates = [Candidate](repeating: Candidate(logit: 0, id: 0), count: vocab)
    }

    /// Calls `body` with the three buffers sized to `logits.count`, `work` holding a copy of
    /// `logits`. The arrays are moved out for the call (no copy), so each closure owns one.
    mutating func withScratch<R>(
        _ logits: UnsafeBufferPointer<Float>,
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Int32>, UnsafeMutableBufferPointer<Candidate>) -> R
    ) -> R {
        let vocab = logits.count
        reserve(vocabularySize: vocab)
        var w: [Float] = [], c: [Int32] = [], k: [Candidate] = []
        swap(&w, &work)
        swap(&c, &counts)
        swap(&k, &candidates)
        defer {
            swap(&w, &work)
            swap(&c, &counts)
            swap(&k, &candidates)
        }
        return w.withUnsafeMutableBufferPointer { w in
            c.withUnsafeMutableBufferPointer { c in
                k.withUnsafeMutableBufferPointer { k in
                    let work = UnsafeMutableBufferPointer(rebasing: w[0..<vocab])  // [vocab]
                    work.baseAddress!.update(from: logits.baseAddress!, count: vocab)
                    return body(work, UnsafeMutableBufferPointer(rebasing: c[0..<vocab]), UnsafeMutableBufferPointer(rebasing: k[0..<vocab]))
                }
            }
        }
    }
}
