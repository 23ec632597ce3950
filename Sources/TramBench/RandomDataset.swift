import TramRandom
package import TramTokenizer

/// One prompt to send, with the token counts the server should report for it.
package struct SampleRequest: Sendable, Equatable {
    package var prompt: String
    /// Tokens the server counts for `prompt` (with the tokenizer's BOS/EOS, if it adds any).
    package var promptLen: Int
    package var expectedOutputLen: Int

    package init(prompt: String, promptLen: Int, expectedOutputLen: Int) {
        self.prompt = prompt
        self.promptLen = promptLen
        self.expectedOutputLen = expectedOutputLen
    }
}

/// vLLM's `random` dataset: prompts of random tokens, sent as text, whose text the model's
/// tokenizer turns back into exactly the requested number of tokens.
///
/// Random ids do not survive a round trip through text as they are: `decode` then `encode`
/// may merge neighbours ("Ġcall" + "s" re-encodes as "Ġcalls") or split a byte token that is
/// half a UTF-8 character. So, as vLLM's `gen_prompt_decode_to_target_len`, the ids are decoded,
/// re-encoded, then truncated or topped up with fresh random ids, and again, until the text
/// encodes to the target count. Unlike vLLM, which sends a prompt that is still off after ten
/// rounds, a prompt that does not converge is drawn anew, and the dataset fails rather than send
/// a wrong length. Ids are drawn independently (vLLM takes consecutive ids from a random
/// offset), never special tokens, so prompts differ from their first block on and the server's
/// prefix cache finds nothing to reuse, except the shared `prefixLen` tokens when asked for.
///
/// Lengths: each prompt has `prefixLen` + an input length drawn uniformly from
/// [⌊n·(1−r)⌋, ⌈n·(1+r)⌉] tokens, where n is `inputLen` less the special tokens the tokenizer adds
/// (SmolLM2 adds none; Llama adds BOS), and r is `rangeRatio`; output lengths likewise around
/// `outputLen`, at least 1.
package struct RandomDataset: Sendable {
    package var inputLen: Int
    package var outputLen: Int
    package var prefixLen: Int
    package var rangeRatio: Double
    package var seed: UInt64
    /// Decode/re-encode rounds per attempt (vLLM's `max_retry`).
    static let rounds = 10
    /// Fresh draws before a prompt length is given up.
    static let attempts = 20

    package init(inputLen: Int = 1024, outputLen: Int = 128, prefixLen: Int = 0, rangeRatio: Double = 0, seed: UInt64 = 0) {
        self.inputLen = inputLen
        self.outputLen = outputLen
        self.prefixLen = prefixLen
        self.rangeRatio = rangeRatio
        self.seed = seed
    }

    /// `count` distinct requests.
    package func sample(count: Int, tokenizer: Tokenizer) throws(BenchError) -> [SampleRequest] {
        guard rangeRatio >= 0, rangeRatio < 1 else { throw .invalidOption("--random-range-ratio must be in [0, 1), got \(rangeRatio)") }
        guard prefixLen >= 0, inputLen >= 0 else { throw .invalidOption("--random-input-len and --random-prefix-len must not be negative") }
        guard outputLen >= 1 else { throw .invalidOption("--random-output-len must be at least 1, got \(outputLen)") }
        let special = tokenizer.encode("", addSpecialTokens: true).count
        let realInputLen = max(0, inputLen - special)
        let inputRange = Self.range(around: realInputLen, ratio: rangeRatio, minimum: 0)
        let outputRange = Self.range(around: outputLen, ratio: rangeRatio, minimum: 1)
        guard prefixLen + inputRange.lowerBound >= 1 else {
            throw .invalidOption("--random-input-len \(inputLen) is too small: with \(special) special token(s) and range ratio \(rangeRatio) a prompt could have no token")
        }
        let allowed = (0..<tokenizer.vocabularySize).filter { !tokenizer.isSpecial($0) }
        guard !allowed.isEmpty else { throw .invalidOption("the tokenizer has no ordinary tokens") }

        var generator = Xoshiro256(seed: seed)
        let prefix = prefixLen > 0 ? try exactTokens([], count: prefixLen, allowed: allowed, tokenizer: tokenizer, generator: &generator).ids : []
        var seen = Set<String>()
        var requests: [SampleRequest] = []
        requests.reserveCapacity(count)
        while requests.count < count {
            let length = Int.random(in: inputRange, using: &generator)
            let output = Int.random(in: outputRange, using: &generator)
            let (text, _) = try exactTokens(prefix, count: prefixLen + length, allowed: allowed, tokenizer: tokenizer, generator: &generator)
            // Two equal prompts would share KV blocks through prefix caching; draw again.
            guard seen.insert(text).inserted else { continue }
            requests.append(SampleRequest(prompt: text, promptLen: prefixLen + length + special, expectedOutputLen: output))
        }
        return requests
    }

    /// vLLM's sampling interval: [⌊n·(1−r)⌋, ⌈n·(1+r)⌉], raised to `minimum`.
    static func range(around n: Int, ratio: Double, minimum: Int) -> ClosedRange<Int> {
        let low = max(minimum, Int((Double(n) * (1 - ratio)).rounded(.down)))
        let high = max(minimum, Int((Double(n) * (1 + ratio)).rounded(.up)))
        return low...high
    }

    /// Text that encodes (without special tokens) to exactly `count` ids, starting from `prefix`
    /// followed by random allowed ids.
    func exactTokens(
        _ prefix: [Int], count: Int, allowed: [Int], tokenizer: Tokenizer, generator: inout Xoshiro256
    ) throws(BenchError) -> (text: String, ids: [Int]) {
        func draw(_ n: Int) -> [Int] { (0..<max(0, n)).map { _ in allowed[Int.random(in: 0..<allowed.count, using: &generator)] } }
        var last = 0
        for _ in 0..<Self.attempts {
            var ids = prefix + draw(count - prefix.count)
            for _ in 0..<Self.rounds {
                let text = tokenizer.decode(ids)
                ids = tokenizer.encode(text, addSpecialTokens: false)
                last = ids.count
                if ids.count == count { return (text, ids) }
                if ids.count < count {
                    ids += draw(count - ids.count)
                } else {
                    ids.removeLast(ids.count - count)
                }
            }
        }
        throw .promptLength(target: count, got: last, attempts: Self.attempts)
    }
}
