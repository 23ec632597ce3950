public import TramEngine
public import TramKernels
public import TramModels
import TramTokenizer

/// Generates one sequence at a time over a paged KV cache whose blocks it owns outright
/// (block table 0, 1, 2 …): a single-stream reference path for tests, driving the model through
/// the same `ModelRunner` and `ForwardBatch` interface as the continuous-batching engine.
public final class SequenceGenerator {
    public let model: LoadedModel
    public let context: KernelContext
    public let maxModelLength: Int
    public let blockSize: Int
    /// Prompt tokens per forward pass while prefilling (bounds the activation memory).
    public let prefillChunk: Int
    private let runner: ModelRunner

    /// - Parameter kvCacheDType: the cache's element type (nil: the model's default).
    public init(model: LoadedModel, context: KernelContext, maxModelLength: Int? = nil, blockSize: Int = 16, prefillChunk: Int = 512,
                kvCacheDType: KVCacheDType? = nil) {
        self.model = model
        self.context = context
        let length = min(maxModelLength ?? model.model.maxPositions, model.model.maxPositions)
        self.maxModelLength = length
        self.blockSize = blockSize
        self.prefillChunk = prefillChunk
        let layout = PagedKVLayout(numBlocks: (length + blockSize - 1) / blockSize, blockSize: blockSize,
                                   numKVHeads: model.model.numKVHeads, headDim: model.model.headDim)
        runner = ModelRunner(model: model.model, cache: KVCache(numLayers: model.model.numLayers, layout: layout,
                                                                dtype: kvCacheDType ?? model.model.defaultKVCacheDType), context: context)
    }

    public struct Result: Sendable {
        public var tokenIDs: [Int]
        public var text: String
        public var finishReason: FinishReason
        public var promptTokens: Int
        /// Seconds spent on the prompt (time to first token) and on the rest.
        public var prefillSeconds: Double
        public var decodeSeconds: Double
    }

    /// Runs `tokens` through the model starting at `start`, returning logits of the requested rows.
    /// - Parameter allLogits: when true every row's logits are returned, else only the last row's.
    func run(_ tokens: ArraySlice<Int>, start: Int, allLogits: Bool) throws(EngineError) -> [Float] {
        let t = tokens.count
        let blocks = (start + t + blockSize - 1) / blockSize
        let chunk = ModelRunner.Chunk(tokens: tokens.map { Int32($0) }, start: start,
                                      blockTable: (0..<blocks).map { Int32($0) },
                                      logitRows: allLogits ? Array(0..<t) : [t - 1])
        return try runner.execute([chunk]) { logits throws(EngineError) in Array(logits) }
    }

    /// Teacher-forced logits at every position of `tokens`: `[tokens.count][vocab]`.
    public func logits(for tokens: [Int]) throws(EngineError) -> [[Float]] {
        guard !tokens.isEmpty else { throw .emptyPrompt }
        guard tokens.count <= maxModelLength else { throw .promptTooLong(promptTokens: tokens.count, maxModelLength: maxModelLength) }
        let vocab = model.model.vocabularySize
        var out: [[Float]] = []
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + prefillChunk)
            let flat = try run(tokens[start..<end], start: start, allLogits: true)
            for r in 0..<(end - start) { out.append(Array(flat[(r * vocab)..<((r + 1) * vocab)])) }
            start = end
        }
        return out
    }

    /// Generates up to `parameters.maxTokens` tokens after `prompt`, calling `onText` with each
    /// piece of decoded text as soon as it is complete UTF-8. Return false from `onText` to stop.
    public func generate(prompt: [Int], parameters: SamplingParameters, onText: (String) -> Bool = { _ in true }) throws(EngineError) -> Result {
        try parameters.validate()
        guard !prompt.isEmpty else { throw .emptyPrompt }
        guard prompt.count < maxModelLength else { throw .promptTooLong(promptTokens: prompt.count, maxModelLength: maxModelLength) }
        var sampler = Sampler(parameters: parameters)
        var decoder = model.tokenizer.makeStreamingDecoder(skipSpecialTokens: true)
        let clock = ContinuousClock()
        let t0 = clock.now

        var last: [Float] = []
        var start = 0
        while start < prompt.count {
            let end = min(prompt.count, start + prefillChunk)
            last = try run(prompt[start..<end], start: start, allLogits: false)
            start = end
        }
        let t1 = clock.now
        var generated: [Int] = []
        var text = ""
        var finish = FinishReason.length
        var position = prompt.count
        while true {
            let next = last.withUnsafeBufferPointer { sampler.sample($0) }
            if model.eosTokenIDs.contains(next) {
                finish = .stop
                break
            }
            generated.append(next)
            let piece = decoder.push(next)
            text += piece
            if !piece.isEmpty, !onText(piece) {
                finish = .stop
                break
            }
            // The token just sampled still needs a slot: stop when it would not fit.
            if generated.count >= parameters.maxTokens ?? Int.max || position + 1 >= maxModelLength { break }
            last = try run([next][...], start: position, allLogits: false)
            position += 1
        }
        let tail = decoder.flush()
        if !tail.isEmpty {
            text += tail
            _ = onText(tail)
        }
        let t2 = clock.now
        return Result(tokenIDs: generated, text: text, finishReason: finish, promptTokens: prompt.count,
                      prefillSeconds: seconds(t1 - t0), decodeSeconds: seconds(t2 - t1))
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
