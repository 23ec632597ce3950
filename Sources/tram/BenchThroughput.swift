import TramRandom
import ArgumentParser
import Foundation
import Logging
import TramEngine
import TramModels
import TramTokenizer

#if canImport(Glibc)
import Glibc
#endif

/// Offline throughput, as vLLM's `benchmark_throughput.py` measures it: N prompts of random
/// tokens, all submitted at once, each generating exactly M tokens (EOS ignored).
struct BenchThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Measure offline generation throughput with random-token prompts.")

    @Argument(help: "A .gguf file, a Hugging Face-style model directory, or an alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "Number of prompts.")
    var numPrompts = 64

    @Option(help: "Tokens per prompt.")
    var inputLen = 128

    @Option(help: "Tokens generated per prompt.")
    var outputLen = 128

    @Option(help: "Seed for the random prompts.")
    var datasetSeed: UInt64 = 0

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let logger = Logger(label: "tram")
        let loaded = try loadModel(model, precision: engine.precision(), threads: engine.threads, logger: logger)
        let llm: LLM
        let draft = try engine.loadDraft(logger: logger)
        do { llm = try LLM(model: loaded, configuration: engine.configuration(), draft: draft) } catch { throw ValidationError("\(error)") }
        let core = llm.core
        let vocab = loaded.model.vocabularySize
        let special = Set((0..<vocab).filter { loaded.tokenizer.isSpecial($0) })
        var generator = Xoshiro256(seed: datasetSeed)
        let requests = (0..<numPrompts).map { _ in
            var ids: [Int] = []
            while ids.count < inputLen {
                let t = Int(generator.next() % UInt64(vocab))
                if !special.contains(t) { ids.append(t) }
            }
            var p = SamplingParameters(temperature: 1, topP: 1, seed: generator.next(), maxTokens: outputLen)
            p.ignoreEOS = true
            return EngineRequest(promptTokenIDs: ids, parameters: p)
        }
        print("KV cache: \(core.kvSizing.numBlocks) blocks × \(core.kvSizing.blockSize) tokens (\(KVCacheSizing.format(bytes: core.kvSizing.bytes)), \(core.kvSizing.dtype.rawValue)); max-num-seqs \(engine.maxNumSeqs), max-num-batched-tokens \(core.scheduler.config.maxNumBatchedTokens)")
        var peakBlocks = 0
        var tokensAtPeak = 0
        var peakRunning = 0
        var statisticsLogger = StatisticsLogger(logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        let outputs: [LLM.Output]
        do {
            outputs = try llm.generate(requests) { _ in
                let s = core.scheduler
                let used = s.kvCache.blockTables.values.reduce(0) { $0 + $1.count }
                if used > peakBlocks {
                    peakBlocks = used
                    tokensAtPeak = s.requests.values.reduce(0) { $0 + $1.numComputedTokens }
                }
                peakRunning = max(peakRunning, s.running.count)
                statisticsLogger.record(core.statistics)
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let elapsed = seconds(clock.now - start)
        let outputTokens = outputs.reduce(0) { $0 + $1.completions.reduce(0) { $0 + $1.tokenIDs.count } }
        let promptTokens = outputs.reduce(0) { $0 + $1.promptTokenCount }
        guard outputTokens == numPrompts * outputLen else {
            throw ValidationError("expected \(numPrompts * outputLen) output tokens, got \(outputTokens)")
        }
        print(String(format: "Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s",
                     Double(numPrompts) / elapsed, Double(promptTokens + outputTokens) / elapsed, Double(outputTokens) / elapsed))
        print(String(format: "Elapsed %.2f s; peak running %d; preemptions %d", elapsed, peakRunning, core.stats.numPreemptions))
        let blockSize = core.kvSizing.blockSize
        if peakBlocks > 0 {
            print(String(format: "KV at peak: %d blocks (%d token slots) holding %d tokens (%.1f%% of slots unused)",
                         peakBlocks, peakBlocks * blockSize, tokensAtPeak, 100 * (1 - Double(tokensAtPeak) / Double(peakBlocks * blockSize))))
        }
        print("Peak RSS: \(KVCacheSizing.format(bytes: peakResidentBytes()))")
    }
}

/// The process's peak resident set size.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #if os(Linux)
    return usage.ru_maxrss * 1024
    #else
    return usage.ru_maxrss
    #endif
}
