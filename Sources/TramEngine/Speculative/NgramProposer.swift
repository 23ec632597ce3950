/// Prompt-lookup proposals (vLLM's `"method": "ngram"`): the continuation of the most recent
/// earlier occurrence of the sequence's own last n tokens, for the longest n in
/// `minN...maxN` that occurs. Code editing, where the answer repeats most of the prompt, is
/// where this pays: the file being rewritten is the lookup table.
///
///     tokens: … a b c d e … x y | a b c |      (suffix "a b c", n = 3)
///                   ▲ match     ▲ proposal "d e …" (up to k tokens)
///
/// Pure and deterministic: the proposal is a point mass, which is what the verifier's
/// acceptance rule for it assumes (`Sampler.verify`).
package struct NgramProposer: Sendable, Equatable {
    package var numSpeculativeTokens: Int
    package var minN: Int
    package var maxN: Int

    package init(numSpeculativeTokens: Int, minN: Int, maxN: Int) {
        precondition(numSpeculativeTokens >= 1 && minN >= 1 && maxN >= minN, "invalid n-gram proposer settings")
        self.numSpeculativeTokens = numSpeculativeTokens
        self.minN = minN
        self.maxN = maxN
    }

    /// Up to `min(numSpeculativeTokens, limit)` proposed tokens to follow `tokens` (prompt and
    /// output so far); empty when no n-gram of the allowed sizes recurs.
    package func propose(_ tokens: ArraySlice<Int32>, limit: Int = .max) -> [Int32] {
        let k = min(numSpeculativeTokens, limit)
        let count = tokens.count
        guard k > 0, count > minN else { return [] }
        let base = tokens.startIndex
        var n = min(maxN, count - 1)
        while n >= minN {
            let suffix = base + count - n
            // Most recent occurrence first: the nearest context is the likeliest to continue alike.
            var i = count - n - 1
            while i >= 0 {
                var j = 0
                while j < n, tokens[base + i + j] == tokens[suffix + j] { j += 1 }
                if j == n {
                    let from = base + i + n
                    return Array(tokens[from..<min(from + k, base + count)])
                }
                i -= 1
            }
            n -= 1
        }
        return []
    }
}
