import Testing
import TramEngine
import TramModels
import TramTestSupport

/// What an engine step allocates besides the forward pass (which allocates nothing:
/// AllocationFreeDecodeTests): the scheduler's plan and the outputs it hands out are a few small
/// arrays per request. The bound catches a regression that allocates per layer, per kernel call
/// or per token of history; today's counts are about 20 for one request and 97 for eight.
@Suite(.serialized) struct EngineStepAllocationTests {
    static let model: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: TestResources.realModelPath()) }

    @Test(arguments: [1, 8])
    func decodeStepAllocatesAFewObjectsPerRequest(requests: Int) throws {
        #expect(AllocationCounter.isActive, "this platform's malloc could not be counted")
        try ModelTestLock.run {
            let core = try EngineCore(model: Self.model.get(), configuration: EngineConfiguration(
                maxModelLen: 256, kvCacheMemory: 32 << 20, threads: 2))
            for i in 0..<requests {
                var p = SamplingParameters(temperature: 0.8, topP: 0.9, seed: UInt64(i), maxTokens: 60)
                p.ignoreEOS = true
                try core.add(EngineRequest(promptTokenIDs: Array(100..<(120 + i)), parameters: p), id: "r\(i)")
            }
            // Prefill, then enough decode steps for every buffer to reach its size.
            for _ in 0..<10 { _ = try core.step() }
            var counts: [Int] = []
            var produced = 0
            for _ in 0..<30 {
                var outputs: [StepOutput<RequestOutput>] = []
                counts.append(try AllocationCounter.count { () throws(EngineError) in outputs = try core.step() })
                produced += outputs.reduce(0) { $0 + $1.output.tokenIDs.count }
            }
            #expect(produced == 30 * requests, "every request decodes one token per step")
            let bound = 12 + 14 * requests
            #expect(counts.allSatisfy { $0 <= bound }, "allocations per step \(counts), bound \(bound)")
        }
    }
}
