#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One token and its log-probability.
public struct TokenLogprob: Sendable, Equatable {
    public var tokenID: Int
    public var logprob: Float

    public init(tokenID: Int, logprob: Float) {
        self.tokenID = tokenID
        self.logprob = logprob
    }
}

/// The log-probability of a chosen token (sampled, or the actual next prompt token) with its
/// rank and the most likely alternatives: what OpenAI's `logprobs` reports per position.
public struct TokenLogprobs: Sendable, Equatable {
    public var tokenID: Int
    public var logprob: Float
    /// 1 + the number of other tokens at least as likely (vLLM's rank: ties count against it).
    public var rank: Int
    /// The `k` most likely tokens, most likely first (lower id first on ties).
    public var top: [TokenLogprob]

    public init(tokenID: Int, logprob: Float, rank: Int, top: [TokenLogprob]) {
        self.tokenID = tokenID
        self.logprob = logprob
        self.rank = rank
        self.top = top
    }
}

/// Log-softmax questions about one row of logits (`[vocab]`), answered without materialising
/// the log-softmax row: logprob(i) = logit(i) − logSumExp(row).
public enum Logprobs {
    /// log Σ exp(row), computed stably (max subtracted, sum in Double).
    package static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Float {
        var maxLogit = -Float.infinity
        for v in row where v > maxLogit { maxLogit = v }
        guard maxLogit.isFinite else { return maxLogit }
        var sum: Double = 0
        for v in row { sum += Double(expf(v - maxLogit)) }
        return maxLogit + Float(log(sum))
    }

    /// The logprob, rank and top-`k` alternatives of `tokenID` in `row`.
    public static func of(_ tokenID: Int, in row: UnsafeBufferPointer<Float>, topK k: Int) -> TokenLogprobs {
        let normalizer = logSumExp(row)
        let value = tokenID >= 0 && tokenID < row.count ? row[tokenID] : -Float.infinity
        var rank = 0
        for v in row where v >= value { rank += 1 }
        return TokenLogprobs(tokenID: tokenID, logprob: value - normalizer, rank: max(rank, 1),
                             top: top(k, in: row, normalizer: normalizer))
    }

    /// The `k` largest entries of `row` as logprobs, most likely first, lower id first on ties.
    static func top(_ k: Int, in row: UnsafeBufferPointer<Float>, normalizer: Float) -> [TokenLogprob] {
        let k = min(k, row.count)
        guard k > 0 else { return [] }
        var best: [TokenLogprob] = []  // logits until the end; sorted by (logit desc, id asc)
        best.reserveCapacity(k + 1)
        for i in row.indices {
            let v = row[i]
            if best.count == k, !(v > best[k - 1].logprob) { continue }
            var j = best.count
            while j > 0, v > best[j - 1].logprob { j -= 1 }
            best.insert(TokenLogprob(tokenID: i, logprob: v), at: j)
            if best.count > k { best.removeLast() }
        }
        for j in best.indices { best[j].logprob -= normalizer }
        return best
    }

    /// Prompt logprobs from teacher-forced logits: row `r` of `logits` (`[rows, vocab]`) is the
    /// model's distribution after prompt token `r`, so it scores prompt token `r + 1`. Returns one
    /// entry per prompt position; position 0 has nothing to condition on and is nil (as in
    /// vLLM and OpenAI). Rows beyond `promptTokenIDs.count - 1` are ignored.
    public static func promptLogprobs(
        logits: UnsafeBufferPointer<Float>, vocabularySize: Int, promptTokenIDs: [Int], topK k: Int
    ) -> [TokenLogprobs?] {
        precondition(vocabularySize > 0 && logits.count % vocabularySize == 0, "logits must be [rows, vocabularySize]")
        let rows = logits.count / vocabularySize
        var out: [TokenLogprobs?] = promptTokenIDs.isEmpty ? [] : [nil]
        for position in promptTokenIDs.indices.dropFirst() {
            let r = position - 1
            guard r < rows else { break }
            let row = UnsafeBufferPointer(rebasing: logits[(r * vocabularySize)..<((r + 1) * vocabularySize)])
            out.append(of(promptTokenIDs[position], in: row, topK: k))
        }
        return out
    }
}
