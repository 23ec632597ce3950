import ArgumentParser
import Foundation
import Logging
import TramEngine
import TramKernels
import TramModels
import TramRandom

/// What speculative decoding's verification costs: one sequence's forward pass over a query chunk
/// of k tokens (the newest token and k − 1 proposals, logits for every row, as the engine's
/// verification step computes them) against a 1-token decode step, after a prompt of
/// `--context` tokens. Decode of one stream is bound by reading the weights, so if k rows cost
/// little more than one, every accepted proposal is nearly free.
struct BenchVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Time a forward pass of k query tokens (a speculative verification) against a 1-token decode.")

    @Argument(help: "A .gguf file, a Hugging Face-style model directory, or an alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "Tokens already in the KV cache before the timed chunk.")
    var context = 512

    @Option(help: "Largest chunk timed; every k from 1 up is timed.")
    var maxTokens = 8

    @Option(help: "Timed forward passes per k (the median is reported).")
    var iterations = 15

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard context >= 1 else { throw ValidationError("--context must be at least 1") }
        guard (1...64).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 64") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
    }

    func run() throws {
        let logger = Logger(label: "tram")
        let loaded = try loadModel(model, precision: engine.precision(), threads: engine.threads, logger: logger)
        let m = loaded.model
        guard context + maxTokens <= m.maxPositions else {
            throw ValidationError("--context + --max-tokens must fit the model's \(m.maxPositions) positions")
        }
        let blockSize = engine.blockSize
        let dtype = try engine.kvCacheDType() ?? m.defaultKVCacheDType
        let numBlocks = (context + maxTokens + blockSize - 1) / blockSize
        let layout = PagedKVLayout(numBlocks: numBlocks, blockSize: blockSize, numKVHeads: m.numKVHeads, headDim: m.headDim)
        let kernel = KernelContext(threads: engine.threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let runner = ModelRunner(model: m, cache: KVCache(numLayers: m.numLayers, layout: layout, dtype: dtype), context: kernel)
        let table = (0..<numBlocks).map(Int32.init)
        var generator = Xoshiro256(seed: 1)
        func randomTokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(generator.next() % UInt64(m.vocabularySize)) } }

        // The prompt, in chunks of at most 512 tokens as the scheduler would prefill it.
        var start = 0
        while start < context {
            let n = min(512, context - start)
            try runner.execute([.init(tokens: randomTokens(n), start: start, blockTable: table, logitRows: [])]) { _ in }
            start += n
        }
        print("\(loaded.name): \(m.weightDescription); kernels \(kernel.isa.rawValue), \(kernel.pool.threadCount) threads; context \(context) tokens, \(dtype.rawValue) KV")
        print("k      median ms   min ms   ÷ k=1   ms per token")
        var base = 0.0
        let clock = ContinuousClock()
        for k in 1...maxTokens {
            let chunk = ModelRunner.Chunk(tokens: randomTokens(k), start: context, blockTable: table, logitRows: Array(0..<k))
            try runner.execute([chunk]) { _ in }   // warm-up
            var times: [Double] = []
            for _ in 0..<iterations {
                let elapsed = try clock.measure { try runner.execute([chunk]) { _ in } }
                times.append(seconds(elapsed) * 1000)
            }
            times.sort()
            let median = times[times.count / 2]
            if k == 1 { base = median }
            print(String(format: "%-6d %9.2f %8.2f %7.2f× %10.2f", k, median, times[0], median / base, median / Double(k)))
        }
    }
}
