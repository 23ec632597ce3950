public import TramTokenizer

extension TokenVocabulary {
    /// The grammar view of `tokenizer` over a logits row of `size` ids (a model's output width
    /// may exceed the tokenizer's vocabulary): every token's bytes as text, except special
    /// tokens (`<|im_start|>` is a control token, not its spelling), unused padding rows and ids
    /// past the vocabulary, which grammars never allow. `stopTokens` (the request's EOS set)
    /// are allowed where the grammar can end.
    public convenience init(tokenizer: Tokenizer, size: Int? = nil, stopTokens: [Int]) {
        let width = size ?? tokenizer.vocabularySize
        self.init(size: width, stopTokens: stopTokens) { id in
            guard id < tokenizer.vocabularySize, !tokenizer.isSpecial(id), !tokenizer.isUnused(id) else { return nil }
            return tokenizer.bytes(of: id)
        }
    }
}
