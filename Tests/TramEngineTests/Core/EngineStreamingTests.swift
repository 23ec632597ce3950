import Foundation
import Testing
import TramEngine
import TramModels
import TramTestSupport
import TramTokenizer

/// The engine behind its thread-safe front, with the real model.
@Suite(.serialized) struct EngineStreamingTests {
    final class StatisticsBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = EngineStatistics()
        func set(_ s: EngineStatistics) { lock.withLock { value = s } }
        var current: EngineStatistics { lock.withLock { value } }
    }

    /// Many streams dropped mid-generation: every request is aborted and every block freed,
    /// while a stream that is read to the end completes normally.
    @Test func droppedStreamsFreeEveryBlock() async throws {
        // Its own model instance: a model's forward pass serves one engine thread at a time, and
        // this test's engine runs beside other suites (it cannot hold ModelTestLock across awaits).
        let model = try ModelLoader.load(path: TestResources.realModelPath())
        let core = try EngineCore(model: model, configuration: EngineConfiguration(maxModelLen: 512, kvCacheMemory: 64 << 20, threads: 2))
        let box = StatisticsBox()
        let engine = EngineLoop(core: core) { box.set($0.statistics) }
        defer { engine.shutdown() }
        var long = SamplingParameters(temperature: 0.8, seed: 1, maxTokens: 400)
        long.ignoreEOS = true
        let p = long
        let prompt = model.tokenizer.encode("Write a very long poem about the sea.")
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<12 {
                group.addTask {
                    var received = 0
                    for try await output in engine.submit(EngineRequest(promptTokenIDs: prompt + [i], parameters: p), id: "s\(i)") {
                        received += output.tokenIDs.count
                        if received >= 3 { break }  // the client goes away
                    }
                    return received
                }
            }
            for try await received in group { #expect(received >= 3) }
        }
        var short = p
        short.maxTokens = 5
        var texts = 0
        for try await output in engine.submit(EngineRequest(promptTokenIDs: prompt, parameters: short), id: "last") {
            texts += output.tokenIDs.count
        }
        #expect(texts == 5)
        for _ in 0..<200 where box.current.numRunning + box.current.numWaiting > 0 { try await Task.sleep(for: .milliseconds(10)) }
        let s = box.current
        #expect(s.numRunning == 0 && s.numWaiting == 0)
        #expect(s.kvCacheUsage == 0)
        #expect(s.finishedRequests == 1)
        #expect(s.generationTokens >= 12 * 3 + 5)
    }
}
