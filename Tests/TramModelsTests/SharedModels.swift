import TramEngine
import TramKernels
import TramModels
import TramTestSupport

/// Models are loaded once per test process: the quantized path maps the file, the f32 path
/// dequantizes every matrix (~0.5 GB), so loading per test would dominate the run.
enum SharedModels {
    static let context = KernelContext(threads: 2)

    static let quantized: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }
    static let float32: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath(), precision: .float32) }
    static let huggingFace: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realHFModelPath()) }
    /// The f32 HF directory with its linear weights quantized to Q8_0 at load (`--quantization int8`).
    static let huggingFaceInt8: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realHFModelPath(), precision: .int8) }

    /// Teacher-forced logits over `tokens`, one row per position.
    static func logits(_ model: LoadedModel, _ tokens: [Int], prefillChunk: Int = 512) throws -> [[Float]] {
        let generator = SequenceGenerator(model: model, context: context, maxModelLength: 1024, prefillChunk: prefillChunk)
        return try generator.logits(for: tokens)
    }
}
