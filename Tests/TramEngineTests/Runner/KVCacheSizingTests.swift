import Testing
import TramEngine
import TramModels
import TramTestSupport

@Suite struct KVCacheSizingTests {
    @Test(arguments: [
        ("2GiB", 2 << 30), ("512MiB", 512 << 20), ("1.5GB", 1_500_000_000), ("800M", 800 << 20),
        ("1073741824", 1 << 30), ("64 KiB", 64 << 10), ("7B", 7),
    ])
    func parsesSizes(text: String, bytes: Int) {
        #expect(KVCacheSizing.parse(bytes: text) == bytes)
    }

    @Test(arguments: ["", "GiB", "-1GiB", "two GiB", "1e30GB", "12XB"])
    func rejectsBadSizes(text: String) {
        #expect(KVCacheSizing.parse(bytes: text) == nil)
    }

    @Test func sizesBlocksFromMemoryAndRefusesTooSmallCaches() throws {
        let model = try SequenceGeneratorTests.model.get().model
        // SmolLM2: 30 layers × 2 × 3 KV heads × 64 × 4 bytes = 46,080 bytes per token in f32.
        let sizing = try KVCacheSizing(model: model, blockSize: 16, memoryBytes: 100 << 20, maxModelLength: 2048, dtype: .float32)
        #expect(sizing.bytesPerBlock == 16 * 46_080)
        #expect(sizing.numBlocks == (100 << 20) / (16 * 46_080))
        #expect(sizing.maxCachedTokens == sizing.numBlocks * 16)
        // The Q4_1 file's default (auto) is f16: half the bytes, twice the tokens.
        #expect(model.defaultKVCacheDType == .float16)
        let half = try KVCacheSizing(model: model, blockSize: 16, memoryBytes: 100 << 20, maxModelLength: 2048)
        #expect(half.dtype == .float16)
        #expect(half.bytesPerBlock == 16 * 23_040)
        #expect(half.numBlocks == (100 << 20) / (16 * 23_040))
        #expect(throws: EngineError.self) { try KVCacheSizing(model: model, blockSize: 16, memoryBytes: 10 << 20, maxModelLength: 8192) }
        #expect(throws: EngineError.self) { try KVCacheSizing(model: model, blockSize: 0, memoryBytes: 10 << 20, maxModelLength: 16) }
        let automatic = try KVCacheSizing(model: model, blockSize: 16, memoryBytes: nil, maxModelLength: 8192)
        #expect(automatic.maxCachedTokens >= 8192)
    }
}
