/// What one engine step computes and reads back, built once from the scheduler's output so that
/// every stage after it (the forward pass, prompt logprobs, sampling) uses the same row layout.
///
/// The step's logits hold, chunk after chunk, only the rows a chunk asks for (`logitRows`):
///
///     logits: | chunk 0: prompt-logprob rows…, sample row | chunk 1: sample row | chunk 2: … |
///             0                                           firstRow(1)           firstRow(2)
///
/// A chunk that ends its request's known tokens samples its last row; one that asked for prompt
/// logprobs also returns its prompt rows. A chunk that verifies k proposed tokens (speculative
/// decoding: newest token, then the k proposals) returns its last k + 1 rows: row i checks
/// proposal i, the last one samples the token after them all.
struct StepPlan {
    /// One scheduled request's part of the step.
    struct Entry {
        var id: RequestID
        /// The chunk's first position: tokens already in the KV cache before this step.
        var start: Int
        /// Where this chunk's rows start in the step's logits.
        var firstRow: Int
        /// The first row sampled (the only one without proposals), when the chunk reaches the end
        /// of the known tokens.
        var sampleRow: Int?
        /// Prompt logprobs: the first position these rows predict from, and how many rows.
        var promptRows: (firstPosition: Int, count: Int)?
    }

    /// Model input, one per scheduled request, in scheduled order.
    var chunks: [ModelRunner.Chunk]
    var entries: [Entry]
    /// Ids of the entries that sample, in order, their first sampled rows, and the proposals
    /// each verifies (rows `sampleRows[i] ... sampleRows[i] + draftTokens[i].count`).
    var sampledIDs: [RequestID]
    var sampleRows: [Int]
    var draftTokens: [[Int32]]
    /// Proposed tokens verified in this step.
    var numDraftTokens: Int
    /// Prompt tokens computed in this step (chunks count the part of them inside the prompt).
    var promptTokens: Int

    /// - Parameters:
    ///   - promptLength: the request's prompt length.
    ///   - wantsPromptLogprobs: whether the request still collects prompt logprobs.
    init(_ output: SchedulerOutput, promptLength: (RequestID) -> Int, wantsPromptLogprobs: (RequestID) -> Bool) {
        chunks = []
        entries = []
        sampledIDs = []
        sampleRows = []
        draftTokens = []
        numDraftTokens = 0
        promptTokens = 0
        chunks.reserveCapacity(output.scheduled.count)
        entries.reserveCapacity(output.scheduled.count)
        var row = 0
        for s in output.scheduled {
            let prompt = promptLength(s.id)
            let promptEnd = min(s.numComputedTokens + s.numNewTokens, prompt)
            promptTokens += max(0, promptEnd - s.numComputedTokens)
            var entry = Entry(id: s.id, start: s.numComputedTokens, firstRow: row)
            var rows: [Int] = []
            if wantsPromptLogprobs(s.id), promptEnd > s.numComputedTokens {
                rows = Array(0..<(promptEnd - s.numComputedTokens))
                entry.promptRows = (s.numComputedTokens, rows.count)
            }
            if s.samplesToken {
                let first = s.numNewTokens - 1 - s.numSpecTokens
                rows.removeAll { $0 >= first }
                rows += first..<s.numNewTokens
                entry.sampleRow = row + rows.count - 1 - s.numSpecTokens
                sampledIDs.append(s.id)
                sampleRows.append(row + rows.count - 1 - s.numSpecTokens)
                draftTokens.append(Array(s.tokenIDs.suffix(s.numSpecTokens)))
                numDraftTokens += s.numSpecTokens
            }
            chunks.append(ModelRunner.Chunk(tokens: s.tokenIDs, start: s.numComputedTokens, blockTable: s.blockTable, logitRows: rows))
            entries.append(entry)
            row += rows.count
        }
    }

    /// Whether the sampled rows are the logits' first rows in order (no prompt logprobs in the
    /// step), so they can be sampled in place.
    var sampleRowsLeadTheLogits: Bool { numDraftTokens == 0 && sampleRows.elementsEqual(0..<sampleRows.count) }
}
