import Testing
import TramBench
import TramModels
import TramTestSupport
import TramTokenizer

/// On the real SmolLM2 tokenizer, whose byte-level BPE re-merges neighbouring random tokens and
/// splits half UTF-8 characters, so prompts only come out exact through the fix-up rounds.
struct RandomDatasetTests {
    static let tokenizer: Result<Tokenizer, any Error> = Result { try ModelLoader.loadTokenizer(path: TestResources.realModelPath()) }

    @Test(arguments: [1, 16, 128])
    func promptsHaveExactlyTheRequestedTokens(inputLen: Int) throws {
        let tokenizer = try Self.tokenizer.get()
        let requests = try RandomDataset(inputLen: inputLen, outputLen: 8, seed: 1).sample(count: 24, tokenizer: tokenizer)
        #expect(requests.count == 24)
        for r in requests {
            #expect(tokenizer.encode(r.prompt).count == inputLen)
            #expect(r.promptLen == inputLen && r.expectedOutputLen == 8)
        }
        #expect(Set(requests.map(\.prompt)).count == requests.count)
    }

    @Test func seedReproducesPrompts() throws {
        let tokenizer = try Self.tokenizer.get()
        let a = try RandomDataset(inputLen: 32, seed: 5).sample(count: 4, tokenizer: tokenizer)
        let b = try RandomDataset(inputLen: 32, seed: 5).sample(count: 4, tokenizer: tokenizer)
        let c = try RandomDataset(inputLen: 32, seed: 6).sample(count: 4, tokenizer: tokenizer)
        #expect(a == b)
        #expect(a != c)
    }

    /// Every prompt starts with the same prefix tokens and still has the exact total.
    @Test func sharedPrefix() throws {
        let tokenizer = try Self.tokenizer.get()
        let requests = try RandomDataset(inputLen: 24, prefixLen: 32, seed: 2).sample(count: 8, tokenizer: tokenizer)
        let ids = requests.map { tokenizer.encode($0.prompt) }
        for (r, t) in zip(requests, ids) {
            #expect(t.count == 56 && r.promptLen == 56)
        }
        // The last prefix token may merge with the first random one; the rest is shared.
        #expect(Set(ids.map { Array($0.prefix(24)) }).count == 1)
        #expect(Set(ids.map { Array($0.suffix(16)) }).count == 8)
    }

    @Test func rangeRatioSpreadsLengths() throws {
        let tokenizer = try Self.tokenizer.get()
        let requests = try RandomDataset(inputLen: 40, outputLen: 10, rangeRatio: 0.5, seed: 3).sample(count: 30, tokenizer: tokenizer)
        for r in requests {
            #expect((20...60).contains(r.promptLen) && (5...15).contains(r.expectedOutputLen))
            #expect(tokenizer.encode(r.prompt).count == r.promptLen)
        }
        #expect(Set(requests.map(\.promptLen)).count > 5)
        #expect(Set(requests.map(\.expectedOutputLen)).count > 3)
    }

    @Test func invalidSettingsThrow() throws {
        let tokenizer = try Self.tokenizer.get()
        #expect(throws: BenchError.self) { try RandomDataset(rangeRatio: 1).sample(count: 1, tokenizer: tokenizer) }
        #expect(throws: BenchError.self) { try RandomDataset(inputLen: 0).sample(count: 1, tokenizer: tokenizer) }
        #expect(throws: BenchError.self) { try RandomDataset(outputLen: 0).sample(count: 1, tokenizer: tokenizer) }
    }
}
