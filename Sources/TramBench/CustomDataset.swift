import Foundation
package import TramTokenizer

/// vLLM's `custom` dataset: a JSON Lines file, one object per line with a `"prompt"` string, sent
/// as it is (on the chat API as the user message). Every request asks for `outputLen` tokens;
/// with `--no-ignore-eos` that is a ceiling and the model stops where it ends its answer, which
/// is what a real workload (say, code editing: a file and an instruction) needs.
///
/// The file's prompts are used in order, again from the first when more are asked for than it
/// holds, so a small file of realistic prompts can drive a longer run. Blank lines are skipped.
package struct CustomDataset: Sendable {
    package var prompts: [String]
    package var outputLen: Int

    package init(prompts: [String], outputLen: Int) {
        self.prompts = prompts
        self.outputLen = outputLen
    }

    /// Reads `path`; a line that is not an object with a string `"prompt"` is an error naming it.
    package init(path: String, outputLen: Int) throws(BenchError) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .invalidOption("--dataset-path: cannot read \(path): \(error.localizedDescription)")
        }
        var prompts: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let prompt = object["prompt"] as? String else {
                throw .invalidOption("--dataset-path: line \(number + 1) of \(path) is not a JSON object with a string \"prompt\"")
            }
            prompts.append(prompt)
        }
        guard !prompts.isEmpty else { throw .invalidOption("--dataset-path: \(path) holds no prompts") }
        self.init(prompts: prompts, outputLen: outputLen)
    }

    /// `count` requests, cycling through the prompts; `promptLen` is the prompt's own tokens
    /// (on the chat API the server adds its template's).
    package func sample(count: Int, tokenizer: Tokenizer) -> [SampleRequest] {
        let lengths = prompts.map { tokenizer.encode($0, addSpecialTokens: true).count }
        return (0..<count).map { i in
            SampleRequest(prompt: prompts[i % prompts.count], promptLen: lengths[i % prompts.count], expectedOutputLen: outputLen)
        }
    }
}
