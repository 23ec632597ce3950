public import Foundation
import TramModels

/// Where tests find the real model and the committed fixtures.
///
/// Tests that need the real model call `realModelPath()`, which throws (failing the test, never
/// skipping it) when the model has not been fetched: run `scripts/fetch-model.sh` first, as
/// `.ci/run` does.
public enum TestResources {
    public struct MissingResource: Error, CustomStringConvertible {
        public let description: String
    }

    /// The SmolLM2-135M-Instruct Q4_1 GGUF where `tram` keeps the default alias (override with
    /// `TRAM_TEST_MODEL`).
    public static func realModelPath() throws -> String {
        let alias = ModelResolver.aliases[ModelResolver.defaultAlias]!
        let path = ProcessInfo.processInfo.environment["TRAM_TEST_MODEL"] ?? ModelResolver.cachedPath(of: alias).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingResource(description: "the real model is missing at \(path): run scripts/fetch-model.sh (CI does) before the tests")
        }
        return path
    }

    /// The cached file of a model alias (`tram download ALIAS`, which CI runs for the aliases its
    /// tests use); override with `TRAM_TEST_MODEL_<ALIAS>` (upper case, `-` and `.` as `_`).
    public static func aliasModelPath(_ name: String) throws -> String {
        guard let alias = ModelResolver.aliases[name] else { throw MissingResource(description: "no alias \(name)") }
        let variable = "TRAM_TEST_MODEL_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        let path = ProcessInfo.processInfo.environment[variable] ?? ModelResolver.cachedPath(of: alias).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingResource(description: "the \(name) model is missing at \(path): run `tram download \(name)` (CI does) before the tests")
        }
        return path
    }

    /// The Hugging Face-style directory made from the real GGUF by `scripts/gguf_to_hf.py`
    /// (override with `TRAM_TEST_HF_MODEL`).
    public static func realHFModelPath() throws -> String {
        let path = ProcessInfo.processInfo.environment["TRAM_TEST_HF_MODEL"]
            ?? ModelResolver.cacheDirectory().appendingPathComponent("models/smollm2-135m-instruct-hf").path
        guard FileManager.default.fileExists(atPath: path + "/config.json") else {
            throw MissingResource(description: "the HF-style model directory is missing at \(path): run scripts/make-hf-model.sh (CI does) before the tests")
        }
        return path
    }

    public static let fixturesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tram-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Serialises tests that run a model. Swift Testing runs suites in parallel, but a model's
/// forward pass and a kernel thread pool serve one caller at a time (one engine thread owns
/// them), and two spinning pools on a 2-core machine would only slow each other down.
public enum ModelTestLock {
    private static let lock = NSLock()

    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
