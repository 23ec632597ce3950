import Testing
import TramTokenizer
import TramKernels
import TramEngine
import TramKernels
import TramModels
import TramTestSupport

@Suite(.serialized) struct SequenceGeneratorTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }
    static let context = KernelContext(threads: 2)

    func chatPrompt(_ model: LoadedModel, _ question: String) -> [Int] {
        model.tokenizer.encode("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n")
    }

    /// The quantized path on a question whose first token is clearly decided.
    @Test func answersAQuestionAndStopsAtEndOfTurn() throws {
        try ModelTestLock.run {
            let model = try Self.model.get()
            let generator = SequenceGenerator(model: model, context: Self.context, maxModelLength: 512)
            var streamed = ""
            let result = try generator.generate(prompt: chatPrompt(model, "What is the capital of Germany?"),
                                                parameters: SamplingParameters(temperature: 0, maxTokens: 64)) { piece in
                streamed += piece
                return true
            }
            #expect(result.text == "The capital of Germany is Berlin.")
            #expect(result.finishReason == .stop)
            #expect(streamed == result.text)
            #expect(!result.tokenIDs.contains(2))
            #expect(model.tokenizer.decode(result.tokenIDs, skipSpecialTokens: true) == result.text)
        }
    }

    /// "What is the capital of France?" starts with a near-tie in the reference ("The" leads "L"
    /// by 0.08 logits), which int8 activations flip; the f32 path (equal to the reference within
    /// 1e-4) answers as the reference does.
    @Test func float32PathAnswersTheCapitalOfFrance() throws {
        try ModelTestLock.run {
            let model = try ModelLoader.load(path: TestResources.realModelPath(), precision: .float32)
            let generator = SequenceGenerator(model: model, context: Self.context, maxModelLength: 256)
            let result = try generator.generate(prompt: chatPrompt(model, "What is the capital of France?"),
                                                parameters: SamplingParameters(temperature: 0, maxTokens: 32))
            #expect(result.text == "The capital of France is Paris.")
            #expect(result.finishReason == .stop)
        }
    }

    @Test func stopsAtMaxTokensAndAtTheContextLimit() throws {
        try ModelTestLock.run {
            let model = try Self.model.get()
            let prompt = model.tokenizer.encode("Once upon a time")
            let generator = SequenceGenerator(model: model, context: Self.context, maxModelLength: 64)
            let limited = try generator.generate(prompt: prompt, parameters: SamplingParameters(temperature: 0, maxTokens: 5))
            #expect(limited.tokenIDs.count == 5 && limited.finishReason == .length)
            var ignoreEOS = SamplingParameters(temperature: 0.8, seed: 3, maxTokens: 1000)
            ignoreEOS.topK = 40
            let full = try generator.generate(prompt: prompt, parameters: ignoreEOS)
            #expect(prompt.count + full.tokenIDs.count <= 64)
            #expect(throws: EngineError.self) { try generator.generate(prompt: Array(repeating: 42, count: 64), parameters: SamplingParameters()) }
            #expect(throws: EngineError.self) { try generator.generate(prompt: [], parameters: SamplingParameters()) }
            #expect(throws: EngineError.self) { try generator.generate(prompt: [49152], parameters: SamplingParameters()) }
        }
    }

    @Test func seededSamplingIsReproducible() throws {
        try ModelTestLock.run {
            let model = try Self.model.get()
            let generator = SequenceGenerator(model: model, context: Self.context, maxModelLength: 256)
            let prompt = chatPrompt(model, "Tell me a story.")
            let p = SamplingParameters(temperature: 1, topP: 0.9, seed: 42, maxTokens: 24)
            let a = try generator.generate(prompt: prompt, parameters: p)
            let b = try generator.generate(prompt: prompt, parameters: p)
            #expect(a.tokenIDs == b.tokenIDs)
        }
    }
}
