import Foundation
import Testing
import TramEngine
import TramFormats
import TramModels
import TramTestSupport

/// A model's `matmulParameters` (what sizes the default token budget) counted from its shapes
/// equals the element count of the matrices the file holds: every 2-D weight but the embedding,
/// plus the LM head (the embedding again when the file ties them).
@Suite struct MatmulParametersTests {
    @Test func smolLM2CountsEveryMatrixItsFileHolds() throws {
        let path = try TestResources.realModelPath()
        let expected = try Self.matrixElements(GGUFFile(path: path))
        #expect(try SharedModels.quantized.get().model.matmulParameters == expected)
        #expect(expected > 130_000_000 && expected < 140_000_000)  // SmolLM2-135M
    }

    @Test func tinyGemma3CountsEveryMatrixItsFileHolds() throws {
        let url = try TestResources.temporaryDirectory().appendingPathComponent("tiny-gemma3-parameters.gguf")
        try TinyGemma3().writeGGUF(to: url)
        let expected = try Self.matrixElements(GGUFFile(path: url.path))
        #expect(try ModelLoader.load(path: url.path).model.matmulParameters == expected)
    }

    /// The elements of a file's 2-D weights but the embedding, plus its LM head (the embedding
    /// again when the file ties them).
    static func matrixElements(_ file: GGUFFile) throws -> Int {
        let matrices = file.tensors.filter { $0.dimensions.count == 2 }
        let embedding = try #require(matrices.first { $0.name == "token_embd.weight" })
        let head = matrices.first { $0.name == "output.weight" } ?? embedding
        return matrices.filter { $0.name != "token_embd.weight" && $0.name != "output.weight" }
            .reduce(0) { $0 + $1.elementCount } + head.elementCount
    }

    /// 128 tokens for a 135M model (the budget measured on it), 64 — never fewer — from 270M up:
    /// Gemma 3 270M, Qwen2.5 0.5B and 1.5B.
    @Test(arguments: [(134_515_008, 128), (150_000_000, 112), (200_000_000, 80), (268_000_000, 64),
                      (494_000_000, 64), (1_543_000_000, 64), (8_000_000_000, 64)])
    func defaultBudgetShrinksWithTheModel(parameters: Int, tokens: Int) {
        #expect(EngineConfiguration.defaultMaxNumBatchedTokens(matmulParameters: parameters) == tokens)
    }
}
