import Foundation
import Testing
import TramBench
import TramModels
import TramTestSupport
import TramTokenizer

/// vLLM's custom dataset: JSON Lines of prompts, used in order and cycled.
struct CustomDatasetTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("custom-\(UUID().uuidString).jsonl").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsPromptsInOrderAndCyclesThem() throws {
        let tokenizer = try RandomDatasetTests.tokenizer.get()
        let path = try write("{\"prompt\": \"Rename f to g.\\n```\\ndef f(): pass\\n```\"}\n\n{\"prompt\": \"Hello\", \"extra\": 1}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dataset = try CustomDataset(path: path, outputLen: 64)
        #expect(dataset.prompts == ["Rename f to g.\n```\ndef f(): pass\n```", "Hello"])
        let requests = dataset.sample(count: 5, tokenizer: tokenizer)
        #expect(requests.map(\.prompt) == [dataset.prompts[0], dataset.prompts[1], dataset.prompts[0], dataset.prompts[1], dataset.prompts[0]])
        #expect(requests.allSatisfy { $0.expectedOutputLen == 64 })
        #expect(requests[1].promptLen == tokenizer.encode("Hello", addSpecialTokens: true).count)
    }

    @Test(arguments: [
        ("{\"prompt\": \"a\"}\n[1, 2]\n", "line 2"),
        ("{\"prompt\": 3}\n", "line 1"),
        ("{\"text\": \"a\"}\n", "line 1"),
        ("not json\n", "line 1"),
        ("\n\n", "holds no prompts"),
    ])
    func namesTheLineItCannotRead(text: String, message: String) throws {
        let path = try write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { _ = try CustomDataset(path: path, outputLen: 8) } throws: { "\($0)".contains(message) }
    }

    @Test func aMissingFileIsAnError() {
        #expect { _ = try CustomDataset(path: "/nonexistent/prompts.jsonl", outputLen: 8) } throws: { "\($0)".contains("cannot read") }
    }

    /// The committed code-editing dataset the speculative benchmark uses parses.
    @Test func theCodeEditingDatasetParses() throws {
        let path = TestResources.fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/bench/datasets/code-edit.jsonl").path
        let dataset = try CustomDataset(path: path, outputLen: 8)
        #expect(dataset.prompts.count == 4)
        #expect(dataset.prompts.allSatisfy { $0.contains("```") && $0.contains("whole file") })
    }
}
