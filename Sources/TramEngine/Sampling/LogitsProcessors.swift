/// The logits transforms that run before the draw, as plain functions over one row of logits
/// (`[vocab]`), in vLLM's order: logit bias → min-tokens mask → penalties → (greedy argmax, or)
/// temperature → min-p → top-k → top-p. They allocate nothing; scratch comes from the caller.
/// Each has a naive reference twin in `Tests/TramEngineTests/Sampling`.
package enum LogitsProcessors {
    /// Adds `bias[id]` (clamped to [-100, 100], as OpenAI) to each listed logit; ids outside the
    /// row are ignored (validation rejects them earlier).
    package static func applyLogitBias(_ logits: UnsafeMutableBufferPointer<Float>, _ bias: [Int: Float]) {
        for (id, value) in bias where id >= 0 && id < logits.count {
            logits[id] += min(100, max(-100, value))
        }
    }

    /// Sets the logits of `ids` to -inf: the min-tokens processor masks EOS and the stop token
    /// ids while the output is shorter than `min_tokens`.
    package static func mask(_ logits: UnsafeMutableBufferPointer<Float>, ids: [Int]) {
        for id in ids where id >= 0 && id < logits.count { logits[id] = -.infinity }
    }

    /// Repetition, frequency and presence penalties, as vLLM's `apply_penalties`:
    /// - repetition over every distinct token of prompt + output: a positive logit is divided by
    ///   the penalty, any other multiplied (Hugging Face's definition);
    /// - then `logit -= frequency × count + presence × (count > 0)` over output tokens only.
    ///
    /// `counts` is scratch of at least `logits.count` zeros and is left all zero: only the
    /// entries of tokens seen are touched, so the cost is O(prompt + output), not O(vocab).
    package static func applyPenalties(
        _ logits: UnsafeMutableBufferPointer<Float>,
        promptTokenIDs: [Int], outputTokenIDs: [Int],
        repetition: Float, frequency: Float, presence: Float,
        counts: UnsafeMutableBufferPointer<Int32>
    ) {
        let vocab = logits.count
        // counts[id]: occurrences in the output; the sign bit marks "repetition already applied".
        for id in outputTokenIDs where id >= 0 && id < vocab { counts[id] &+= 1 }
        if repetition != 1 {
            let applied = Int32.min
            func penalize(_ id: Int) {
                guard id >= 0, id < vocab, counts[id] & applied == 0 else { return }
                counts[id] |= applied
                let v = logits[id]
                logits[id] = v > 0 ? v / repetition : v * repetition
            }
            for id in promptTokenIDs { penalize(id) }
            for id in outputTokenIDs { penalize(id) }
            for id in promptTokenIDs where id >= 0 && id < vocab { counts[id] &= ~applied }
            for id in outputTokenIDs where id >= 0 && id < vocab { counts[id] &= ~applied }
        }
        for id in outputTokenIDs where id >= 0 && id < vocab {
            let c = counts[id]
            guard c > 0 else { continue }
            logits[id] -= frequency * Float(c) + presence
            counts[id] = 0
        }
    }

    /// Divides every logit by `temperature` (> 0).
    package static func applyTemperature(_ logits: UnsafeMutableBufferPointer<Float>, _ temperature: Float) {
        let inverse = 1 / temperature
        for i in logits.indices { logits[i] *= inverse }
    }

    /// The index of the largest logit; ties go to the lowest id; 0 when every logit is -inf or NaN.
    package static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in logits.indices where logits[i] > bestValue {
            best = i
            bestValue = logits[i]
        }
        return best
    }
}
