public import TramKernels

/// Everything one forward pass computes, flattened: the scheduled tokens of every sequence in one
/// batch (prefill chunks and decode tokens mixed), so linear layers run once over all rows.
///
/// Row `t` of the batch is token `tokenIDs[t]` at `positions[t]`; its new K/V go to slot
/// `slotMapping[t]`. Sequence `s` owns rows `queryStart ..< queryStart + queryLength`, and after
/// this step has `contextLength` tokens cached (earlier tokens plus these rows):
///
///     context of s: | cached earlier (contextLength - queryLength) | this step's rows (queryLength) |
///
/// Row `i` of a sequence attends to its first `contextLength - queryLength + i + 1` tokens.
public struct ForwardBatch: Sendable {
    public struct Sequence: Sendable {
        public var queryStart: Int
        public var queryLength: Int
        public var contextLength: Int
        /// Physical KV blocks in logical order; must cover `contextLength` tokens.
        public var blockTable: [Int32]

        public init(queryStart: Int, queryLength: Int, contextLength: Int, blockTable: [Int32]) {
            self.queryStart = queryStart
            self.queryLength = queryLength
            self.contextLength = contextLength
            self.blockTable = blockTable
        }
    }

    public var tokenIDs: [Int32]  // [T]
    public var positions: [Int32]  // [T]
    public var slotMapping: [Int32]  // [T]
    public var sequences: [Sequence]  // [S]
    /// Rows whose logits are wanted, in output order.
    public var logitsIndices: [Int]

    public init(tokenIDs: [Int32], positions: [Int32], slotMapping: [Int32], sequences: [Sequence], logitsIndices: [Int]) {
        self.tokenIDs = tokenIDs
        self.positions = positions
        self.slotMapping = slotMapping
        self.sequences = sequences
        self.logitsIndices = logitsIndices
    }

    public var tokenCount: Int { tokenIDs.count }

    /// Checks the batch against the model and cache so that bad ids or positions from outside
    /// become an error instead of an out-of-bounds read.
    func validate(vocabularySize: Int, maxPositions: Int, layout: PagedKVLayout) throws(ModelError) {
        func fail(_ r: String) -> ModelError { .invalidBatch(r) }
        let t = tokenIDs.count
        guard positions.count == t, slotMapping.count == t else { throw fail("tokenIDs, positions and slotMapping differ in length") }
        let slots = layout.numBlocks * layout.blockSize
        for i in 0..<t {
            guard tokenIDs[i] >= 0, Int(tokenIDs[i]) < vocabularySize else { throw fail("token id \(tokenIDs[i]) is outside the vocabulary (\(vocabularySize))") }
            guard positions[i] >= 0, Int(positions[i]) < maxPositions else { throw fail("position \(positions[i]) is outside the model's \(maxPositions) positions") }
            guard slotMapping[i] >= 0, Int(slotMapping[i]) < slots else { throw fail("slot \(slotMapping[i]) is outside the KV cache") }
        }
        var covered = 0
        for s in sequences {
            guard s.queryStart == covered, s.queryLength > 0, s.contextLength >= s.queryLength else { throw fail("sequences must tile the rows in order") }
            guard s.blockTable.count * layout.blockSize >= s.contextLength else { throw fail("block table too short for \(s.contextLength) tokens") }
            guard s.blockTable.allSatisfy({ $0 >= 0 && Int($0) < layout.numBlocks }) else { throw fail("block id outside the KV cache") }
            covered += s.queryLength
        }
        guard covered == t else { throw fail("sequences cover \(covered) of \(t) rows") }
        guard logitsIndices.allSatisfy({ $0 >= 0 && $0 < t }) else { throw fail("logits index outside the batch") }
    }
}
