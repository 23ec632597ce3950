public import TramKernels
public import TramModels

/// Turns one scheduler step into one forward pass: every scheduled chunk of every request
/// becomes rows of a single flattened `ForwardBatch` (prefill chunks and decode tokens mixed),
/// so each weight block is read once per step for the whole batch.
///
/// Owned by the engine thread; not reentrant (it reuses its logits buffer).
public final class ModelRunner {
    /// The part of one request computed this step.
    ///
    ///     request tokens: | computed before (start) | this chunk (tokens) | not yet scheduled |
    public struct Chunk: Sendable {
        public var tokens: [Int32]
        /// Position of `tokens[0]`: the number of tokens already in the KV cache.
        public var start: Int
        /// Physical blocks covering at least `start + tokens.count` tokens.
        public var blockTable: [Int32]
        /// Which rows of this chunk need logits (offsets into `tokens`), e.g. only the last row
        /// when the chunk completes the prompt or decodes, none for a mid-prompt chunk.
        public var logitRows: [Int]

        public init(tokens: [Int32], start: Int, blockTable: [Int32], logitRows: [Int]) {
            self.tokens = tokens
            self.start = start
            self.blockTable = blockTable
            self.logitRows = logitRows
        }
    }

    public let model: any CausalLM
    public let cache: KVCache
    public let context: KernelContext
    private var logits: [Float] = []
    // The flattened batch's arrays, emptied and refilled each step (their capacity is kept).
    private var tokenIDs: [Int32] = [], positions: [Int32] = [], slots: [Int32] = []
    private var sequences: [ForwardBatch.Sequence] = []
    private var logitsIndices: [Int] = []

    public init(model: any CausalLM, cache: KVCache, context: KernelContext) {
        self.model = model
        self.cache = cache
        self.context = context
    }

    /// Runs the chunks; calls `body` once with the logits `[Σ logitRows, vocab]`, in chunk order
    /// then row order. The buffer is reused across steps: copy what must outlive the call.
    public func execute<R>(_ chunks: [Chunk], _ body: (UnsafeBufferPointer<Float>) throws(EngineError) -> R) throws(EngineError) -> R {
        let blockSize = cache.layout.blockSize
        tokenIDs.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        logitsIndices.removeAll(keepingCapacity: true)
        for chunk in chunks {
            let first = tokenIDs.count
            let end = chunk.start + chunk.tokens.count
            guard chunk.blockTable.count * blockSize >= end else {
                throw .model("block table of \(chunk.blockTable.count) blocks cannot hold \(end) tokens")
            }
            sequences.append(.init(queryStart: first, queryLength: chunk.tokens.count, contextLength: end, blockTable: chunk.blockTable))
            for (i, token) in chunk.tokens.enumerated() {
                let p = chunk.start + i
                tokenIDs.append(token)
                positions.append(Int32(p))
                slots.append(chunk.blockTable[p / blockSize] * Int32(blockSize) + Int32(p % blockSize))
            }
            for row in chunk.logitRows { logitsIndices.append(first + row) }
        }
        let vocab = model.vocabularySize
        let needed = logitsIndices.count * vocab
        if logits.count < needed { logits = [Float](repeating: 0, count: needed) }
        let batch = ForwardBatch(tokenIDs: tokenIDs, positions: positions, slotMapping: slots,
                                 sequences: sequences, logitsIndices: logitsIndices)
        let model = self.model, cache = self.cache, context = self.context
        return try logits.withUnsafeMutableBufferPointer { buffer throws(EngineError) -> R in
            do {
                try model.forward(batch, cache: cache, context: context, logits: buffer.baseAddress!)
            } catch {
                throw .model("\(error)")
            }
            return try body(UnsafeBufferPointer(rebasing: buffer[0..<needed]))
        }
    }
}
