/// Samples one token for every row of a step's logits (`[rows, vocab]`, one row per request
/// scheduled this step). Rows are independent: each uses its own `Sampler` (parameters and
/// generator), so adding or removing other requests never changes a seeded request's tokens.
/// The scratch buffers are shared by all rows, which is why one `BatchSampler` belongs to the
/// one thread that runs the engine loop.
public struct BatchSampler: Sendable {
    public var workspace = SamplerWorkspace()

    public init() {}

    /// - Parameters:
    ///   - logits: `[samplers.count, vocabularySize]`, row `r` for `samplers[r]`.
    ///   - promptTokenIDs, outputTokenIDs: per row, the request's prompt and its output so far.
    ///   - results: replaced by one `SampledToken` per row (its capacity is reused).
    public mutating func sample(
        logits: UnsafeBufferPointer<Float>, vocabularySize: Int, samplers: inout [Sampler],
        promptTokenIDs: [[Int]], outputTokenIDs: [[Int]], into results: inout [SampledToken]
    ) {
        let rows = samplers.count
        precondition(logits.count == rows * vocabularySize, "logits must be [rows, vocabularySize]")
        precondition(promptTokenIDs.count == rows && outputTokenIDs.count == rows, "one token history per row")
        results.removeAll(keepingCapacity: true)
        for r in 0..<rows {
            let row = UnsafeBufferPointer(rebasing: logits[(r * vocabularySize)..<((r + 1) * vocabularySize)])
            results.append(samplers[r].sample(row, promptTokenIDs: promptTokenIDs[r], outputTokenIDs: outputTokenIDs[r],
                                              workspace: &workspace))
        }
    }
}
