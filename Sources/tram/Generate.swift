import ArgumentParser
import Foundation
import Logging
import TramChat
import TramEngine
import TramInput
import TramKernels
import TramModels
import TramTokenizer

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate completions: one prompt streamed to standard output, or a JSONL file of prompts.",
        discussion: """
            With --input, each line of the file is a JSON object with "prompt" (text), "prompt_token_ids" \
            or "messages" (chat), and optionally its own sampling fields as in vLLM's API (max_tokens, \
            temperature, top_p, top_k, min_p, presence_penalty, frequency_penalty, repetition_penalty, seed, \
            n, stop, stop_token_ids, ignore_eos, min_tokens, logprobs, prompt_logprobs, skip_special_tokens, \
            include_stop_str_in_output). All lines run together through continuous batching; results go \
            to --output (or standard output) as JSONL in input order.
            """)

    @Argument(help: "A .gguf file, a Hugging Face-style model directory, or an alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "A JSONL file of prompts, each line with its own sampling parameters.")
    var input: String?

    @Option(help: "Where to write the JSONL results of --input (default: standard output).")
    var output: String?

    @Flag(help: "Wrap the prompt as one user message with the model's chat template.")
    var chat = false

    @Option(help: "Maximum number of tokens to generate (default: up to the context length).")
    var maxTokens: Int?

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature = 0.0

    @Option(help: "Nucleus sampling: keep the smallest set of tokens whose probability reaches this.")
    var topP = 1.0

    @Option(help: "Keep only the K most likely tokens (-1 disables).")
    var topK = -1

    @Option(help: "Random seed for this prompt, for reproducible sampling.")
    var seed: UInt64?

    @Flag(help: "Dequantize all weights to f32 and compute with f32 activations (slow; a reference path).")
    var float32 = false

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard (prompt == nil) != (input == nil) else { throw ValidationError("give exactly one of --prompt and --input") }
        if float32, try engine.precision() != .native { throw ValidationError("--float32 and --quantization \(engine.quantization ?? "") exclude each other") }
        if output != nil, input == nil { throw ValidationError("--output goes with --input") }
    }

    func run() throws {
        let logger = Logger(label: "tram")
        let loaded = try loadModel(model, precision: float32 ? .float32 : engine.precision(), threads: engine.threads, logger: logger)
        let llm: LLM
        let draft = try engine.loadDraft(logger: logger)
        do { llm = try LLM(model: loaded, configuration: engine.configuration(), draft: draft) } catch { throw ValidationError("\(error)") }
        logger.info("kernels: \(KernelISA.selectionDescription)")
        if let policy = llm.core.speculationPolicy { logger.info("speculative decoding: \(policy.description)") }
        logger.info("KV cache: \(llm.core.kvSizing.numBlocks) blocks of \(llm.core.kvSizing.blockSize) tokens (\(KVCacheSizing.format(bytes: llm.core.kvSizing.bytes)), \(llm.core.kvSizing.dtype.rawValue)), up to \(llm.core.kvSizing.maxCachedTokens) tokens; max model length \(llm.core.maxModelLen)")
        var defaults = SamplingParameters(temperature: temperature, topP: topP, topK: topK, seed: seed, maxTokens: maxTokens)
        defaults.maxTokens = maxTokens
        if let input {
            try runBatch(llm, loaded, input: input, defaults: defaults, logger: logger)
        } else if let prompt {
            try runOne(llm.core, loaded, prompt: prompt, parameters: defaults, logger: logger)
        }
    }

    /// Streams one completion as the engine produces it.
    func runOne(_ core: EngineCore, _ loaded: LoadedModel, prompt: String, parameters: SamplingParameters, logger: Logger) throws {
        let text = chat ? try renderChat(loaded, [ChatMessage(role: "user", content: prompt)], logger: logger) : prompt
        // A rendered chat already holds its special tokens, as the server encodes it.
        let ids = loaded.tokenizer.encode(text, addSpecialTokens: !chat)
        let clock = ContinuousClock()
        let start = clock.now
        var firstToken: ContinuousClock.Instant?
        var generated = 0
        var finish: Finish?
        do {
            try core.add(EngineRequest(promptTokenIDs: ids, parameters: parameters), id: "cli")
            while core.hasUnfinishedRequests {
                for step in try core.step() {
                    if firstToken == nil, !step.output.tokenIDs.isEmpty { firstToken = clock.now }
                    generated += step.output.tokenIDs.count
                    FileHandle.standardOutput.write(Data(step.output.text.utf8))
                    if let f = step.output.finish { finish = f }
                }
            }
        } catch {
            throw ValidationError("\(error)")
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
        let end = clock.now
        let prefill = seconds((firstToken ?? end) - start)
        let decode = seconds(end - (firstToken ?? end))
        logger.info("""
            prompt \(ids.count) tokens in \(String(format: "%.3f", prefill)) s \
            (\(String(format: "%.1f", Double(ids.count) / max(prefill, 1e-9))) tok/s); \
            generated \(generated) tokens, \(String(format: "%.1f", generated > 1 ? Double(generated - 1) / max(decode, 1e-9) : 0)) tok/s; \
            finish reason \(finish?.reason.rawValue ?? "none")
            """)
    }

    /// Runs every line of a JSONL file together and writes one result line per input line.
    func runBatch(_ llm: LLM, _ loaded: LoadedModel, input: String, defaults: SamplingParameters, logger: Logger) throws {
        guard let data = FileManager.default.contents(atPath: input) else { throw ValidationError("cannot read \(input)") }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var requests: [EngineRequest] = []
        var lineNumbers: [Int] = []
        var prompts: [String?] = []
        var results: [Int: BatchResult] = [:]
        // Lines are judged by the same input processor as the server's bodies.
        let choice = ChatTemplateChoice(argument: nil, model: loaded)
        logger.info("\(choice.logLine(architecture: loaded.architecture))")
        let processor = InputProcessor(
            tokenizer: loaded.tokenizer, chatTemplate: InputProcessor.chatTemplate(source: choice.source, tokenizer: loaded.tokenizer),
            vocabularySize: loaded.model.vocabularySize, maxModelLen: llm.core.maxModelLen, limits: llm.core.requestLimits,
            defaults: GenerationDefaults(), eosTokenIDs: loaded.eosTokenIDs)
        for (i, raw) in lines.enumerated() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let number = i + 1
            do {
                let (request, text) = try processor.batchLine(Data(raw.utf8), base: defaults)
                requests.append(request)
                lineNumbers.append(number)
                prompts.append(text)
            } catch {
                results[number] = BatchResult(line: number, prompt: nil, prompt_token_count: 0, outputs: [], error: "line \(number): \(error)")
            }
        }
        // A request the engine refuses (too long for the context) is reported on its line; the rest still run.
        var accepted: [Int] = []
        for (k, r) in requests.enumerated() {
            do {
                _ = try llm.core.validate(r)
                accepted.append(k)
            } catch {
                results[lineNumbers[k]] = BatchResult(line: lineNumbers[k], prompt: prompts[k], prompt_token_count: r.promptTokenIDs.count, outputs: [], error: "line \(lineNumbers[k]): \(error)")
            }
        }
        logger.info("running \(accepted.count) requests from \(input)")
        let outputs: [LLM.Output]
        var statisticsLogger = StatisticsLogger(logger: logger)
        do {
            outputs = try llm.generate(accepted.map { requests[$0] }) { _ in statisticsLogger.record(llm.core.statistics) }
        } catch {
            throw ValidationError("\(error)")
        }
        for (o, k) in zip(outputs, accepted) {
            results[lineNumbers[k]] = BatchResult(
                line: lineNumbers[k], prompt: prompts[k], prompt_token_count: o.promptTokenCount,
                outputs: o.completions.map { c in
                    BatchResult.Completion(
                        index: c.index, text: c.text, token_ids: c.tokenIDs, finish_reason: c.finish.reason.rawValue,
                        stop_reason: c.finish.stopReason.map { reason in
                            switch reason {
                            case let .string(s): .string(s)
                            case let .tokenID(t): .token(t)
                            }
                        },
                        logprobs: requests[k].parameters.logprobs == nil ? nil : c.logprobs.map { lp in
                            BatchResult.Logprob(token_id: lp.tokenID, logprob: lp.logprob, rank: lp.rank,
                                                top: lp.top.map { ["\($0.tokenID)": $0.logprob] })
                        })
                },
                error: nil)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for number in results.keys.sorted() {
            out.append(try encoder.encode(results[number]!))
            out.append(10)
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: out) else { throw ValidationError("cannot write \(output)") }
            logger.info("wrote \(results.count) results to \(output)")
        } else {
            FileHandle.standardOutput.write(out)
        }
    }

    func renderChat(_ loaded: LoadedModel, _ messages: [ChatMessage], logger: Logger) throws -> String {
        let choice = ChatTemplateChoice(argument: nil, model: loaded)
        logger.info("\(choice.logLine(architecture: loaded.architecture))")
        do {
            return try InputProcessor.chatTemplate(source: choice.source, tokenizer: loaded.tokenizer).get()
                .render(messages, addGenerationPrompt: true)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Resolves and loads a model, logging where it came from and how long loading took.
func loadModel(_ argument: String?, precision: WeightPrecision, threads: Int?, logger: Logger) throws -> LoadedModel {
    let clock = ContinuousClock()
    let start = clock.now
    do {
        let resolved = try ModelResolver.resolve(argument) { line in
            FileHandle.standardError.write(Data(("  " + line + "\n").utf8))
        }
        logger.info("loading \(resolved.path)")
        let loaded = try ModelLoader.load(path: resolved.path, precision: precision, name: resolved.name, threads: threads, logger: logger)
        logger.info("loaded \(loaded.name) (\(loaded.format); \(loaded.model.weightDescription)) in \(String(format: "%.0f", seconds(clock.now - start) * 1000)) ms")
        return loaded
    } catch {
        throw ValidationError(error.description)
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
