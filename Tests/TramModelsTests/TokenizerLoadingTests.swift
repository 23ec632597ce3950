import Testing
import TramModels
import TramTestSupport
import TramTokenizer

/// `ModelLoader.loadTokenizer` reads only the tokenizer, and it is the one a full load builds.
struct TokenizerLoadingTests {
    static let text = "Hello world! The capital of France is Paris. <|im_start|>user\n日本語 🙂 1234"

    @Test func ggufTokenizerMatchesTheFullModels() throws {
        let tokenizer = try ModelLoader.loadTokenizer(path: TestResources.realModelPath())
        let model = try SharedModels.quantized.get()
        #expect(tokenizer.vocabularySize == model.tokenizer.vocabularySize)
        #expect(tokenizer.encode(Self.text) == model.tokenizer.encode(Self.text))
        #expect(tokenizer.eosTokenID == model.tokenizer.eosTokenID)
    }

    @Test func directoryTokenizerMatchesTheGGUFs() throws {
        let gguf = try ModelLoader.loadTokenizer(path: TestResources.realModelPath())
        let hf = try ModelLoader.loadTokenizer(path: TestResources.realHFModelPath())
        #expect(hf.encode(Self.text) == gguf.encode(Self.text))
    }

    @Test func missingPathIsNotFound() {
        #expect(throws: ModelError.self) { try ModelLoader.loadTokenizer(path: "/nonexistent/model.gguf") }
    }
}
