import ArgumentParser
import Foundation
import Logging
import TramChat
import TramEngine
import TramKernels
import TramModels
import TramTokenizer

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a completion for one prompt and stream it to standard output.")

    @Argument(help: "A .gguf file, a Hugging Face-style model directory, or an alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "The prompt text.")
    var prompt: String

    @Flag(help: "Wrap the prompt as one user message with the model's chat template.")
    var chat = false

    @Option(help: "Maximum number of tokens to generate.")
    var maxTokens = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature = 0.0

    @Option(help: "Nucleus sampling: keep the smallest set of tokens whose probability reaches this.")
    var topP = 1.0

    @Option(help: "Keep only the K most likely tokens (-1 disables).")
    var topK = -1

    @Option(help: "Random seed, for reproducible sampling.")
    var seed: UInt64?

    @Option(help: "Context length to allocate KV cache for (default: the model's).")
    var maxModelLen: Int?

    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int?

    @Flag(help: "Dequantize all weights to f32 and compute with f32 activations (slow; a reference path).")
    var float32 = false

    mutating func run() throws {
        let logger = Logger(label: "tram")
        let clock = ContinuousClock()
        let start = clock.now
        let resolved: (path: String, name: String)
        let loaded: LoadedModel
        do {
            resolved = try ModelResolver.resolve(model) { line in
                FileHandle.standardError.write(Data(("  " + line + "\n").utf8))
            }
            logger.info("loading \(resolved.path)")
            loaded = try ModelLoader.load(path: resolved.path, precision: float32 ? .float32 : .native, name: resolved.name)
        } catch {
            throw ValidationError(error.description)
        }
        let loadTime = clock.now - start
        logger.info("loaded \(loaded.name) (\(loaded.format); \(loaded.model.weightDescription)) in \(loadTime.formatted(.units(allowed: [.milliseconds])))")

        var text = prompt
        if chat {
            guard let source = loaded.chatTemplate else { throw ValidationError(ChatTemplateError.missing.description) }
            do {
                text = try ChatTemplate(source: source).render([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true)
            } catch {
                throw ValidationError(error.description)
            }
        }
        let ids = loaded.tokenizer.encode(text)
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard threadCount >= 1 else { throw ValidationError("--threads must be at least 1") }
        let generator = SequenceGenerator(model: loaded, context: KernelContext(threads: threadCount), maxModelLength: maxModelLen)
        let parameters = SamplingParameters(temperature: temperature, topP: topP, topK: topK, seed: seed, maxTokens: maxTokens)
        let result: SequenceGenerator.Result
        do {
            result = try generator.generate(prompt: ids, parameters: parameters) { piece in
                FileHandle.standardOutput.write(Data(piece.utf8))
                return true
            }
        } catch {
            throw ValidationError(error.description)
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
        let n = result.tokenIDs.count
        let decodeRate = n > 1 ? Double(n - 1) / result.decodeSeconds : 0
        logger.info("""
            prompt \(result.promptTokens) tokens in \(String(format: "%.3f", result.prefillSeconds)) s \
            (\(String(format: "%.1f", Double(result.promptTokens) / result.prefillSeconds)) tok/s); \
            generated \(n) tokens, \(String(format: "%.1f", decodeRate)) tok/s; finish reason \(result.finishReason.rawValue)
            """)
    }
}
