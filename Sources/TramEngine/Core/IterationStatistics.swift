/// What the engine did since its iteration statistics were last taken — normally one step,
/// plus any aborts — with the per-request timings that only the engine sees accurately. It is
/// the input of the latency and token histograms of `/metrics` (vLLM's `IterationStats`),
/// where `EngineStatistics` holds the running totals and gauges.
///
/// Everything is per sample: a request with `n = 2` finishes as two requests, as in vLLM, whose
/// `n > 1` children each report their own stats.
public struct IterationStatistics: Sendable {
    /// Tokens of each step: the prompt tokens its chunks computed (again after a preemption)
    /// plus the tokens it produced. vLLM's `iteration_tokens_total`, except that vLLM counts a
    /// prompt in the step of its first token, and here a chunked prompt counts in the steps that
    /// compute it. One entry per step.
    public var stepTokens: [Int] = []
    /// The whole prompt (cached tokens included) of each sample that produced its first token,
    /// as vLLM counts `prompt_tokens_total`.
    public var promptTokens = 0
    /// Tokens produced.
    public var generationTokens = 0
    /// Seconds from a request's arrival to each sample's first token.
    public var timesToFirstToken: [Double] = []
    /// Seconds between consecutive tokens of a sample, one entry per later token.
    public var interTokenLatencies: [Double] = []
    public var finished: [FinishedRequestStatistics] = []

    public init() {}
}

/// One sample that finished (or was aborted), with the lengths of its phases in seconds.
///
///     arrival ─ queued ──────── scheduled ───────── first token ────── last token ─ finish
///                 │◀── queueTime ──▶│◀── prefillTime ──▶│◀── decodeTime ──▶│
///     │◀─────────────────────────────── e2eLatency ─────────────────────────────────▶│
///
/// `arrival` is when the `EngineRequest` was made, `queued` when the core accepted it. Phases a
/// request never reached (aborted while waiting, or before its first token) are nil.
public struct FinishedRequestStatistics: Sendable, Equatable {
    public var reason: FinishReason
    public var promptTokens: Int
    public var generationTokens: Int
    public var e2eLatency: Double
    public var queueTime: Double?
    public var prefillTime: Double?
    public var decodeTime: Double?
    /// First scheduled to last token (vLLM's `request_inference_time_seconds`).
    public var inferenceTime: Double? {
        guard let prefillTime, let decodeTime else { return nil }
        return prefillTime + decodeTime
    }

    public init(reason: FinishReason, promptTokens: Int, generationTokens: Int, e2eLatency: Double,
                queueTime: Double? = nil, prefillTime: Double? = nil, decodeTime: Double? = nil) {
        self.reason = reason
        self.promptTokens = promptTokens
        self.generationTokens = generationTokens
        self.e2eLatency = e2eLatency
        self.queueTime = queueTime
        self.prefillTime = prefillTime
        self.decodeTime = decodeTime
    }
}

/// When one sample reached each stage, on the engine's clock. Preemption does not reset
/// `scheduled`: the time spent preempted counts in the phase it interrupted, as in vLLM.
struct SampleTiming {
    typealias Instant = ContinuousClock.Instant

    let arrival: Instant
    let queued: Instant
    let promptTokens: Int
    var scheduled: Instant?
    var firstToken: Instant?
    var lastToken: Instant?
    var generatedTokens = 0

    /// Records `count` tokens produced at `now` into `stats`.
    mutating func produced(_ count: Int, at now: Instant, into stats: inout IterationStatistics) {
        guard count > 0 else { return }
        if let last = lastToken {
            stats.interTokenLatencies.append(Self.seconds(now - last))
        } else {
            firstToken = now
            stats.timesToFirstToken.append(Self.seconds(now - arrival))
            stats.promptTokens += promptTokens
        }
        lastToken = now
        generatedTokens += count
        stats.generationTokens += count
    }

    func finished(_ reason: FinishReason, at now: Instant) -> FinishedRequestStatistics {
        FinishedRequestStatistics(
            reason: reason, promptTokens: promptTokens, generationTokens: generatedTokens,
            e2eLatency: Self.seconds(now - arrival),
            queueTime: scheduled.map { Self.seconds($0 - queued) },
            prefillTime: scheduled.flatMap { s in firstToken.map { Self.seconds($0 - s) } },
            decodeTime: firstToken.flatMap { f in lastToken.map { Self.seconds($0 - f) } })
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
