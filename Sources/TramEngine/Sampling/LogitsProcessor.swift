/// A per-request rule over the next token's logits, kept by one sample for its whole life: the
/// slot structured outputs fill (a grammar's matcher masks the tokens its state does not allow,
/// then advances on the token drawn). The engine makes one per sample (`n` samples: `n`
/// processors), applies it to the sampling copy of the logits before every other processor
/// (logit bias, min_tokens, penalties), as vLLM applies its structured-output bitmask, and
/// reports each sampled token. Logprobs stay those of the raw logits. It runs on the engine
/// thread only.
public protocol LogitsProcessor: AnyObject {
    /// Changes the logits of the next token in place (`[vocabularySize]`); a token that must
    /// not be drawn gets `-infinity`.
    func apply(to logits: UnsafeMutableBufferPointer<Float>)
    /// The token drawn from the processed logits.
    func accept(_ tokenID: Int)
}
