extension Tokenizer {
    /// Builds the tokenizer a GGUF file describes.
    ///
    /// "gpt2" models are byte-level BPE whose pre-tokenizer is named by `pre`; "llama" models
    /// are SentencePiece-style: spaces become "▁", a "▁" is prepended to each run of text
    /// between added tokens when `addSpacePrefix`, pairs merge by score, and characters
    /// missing from the vocabulary fall back to "<0xNN>" byte tokens. Control, user-defined
    /// and unknown tokens are matched verbatim in the input; control and unknown tokens are
    /// special. Merge rules naming tokens absent from the vocabulary are skipped, as llama.cpp
    /// does.
    public convenience init(gguf: GGUFTokenizerData) throws {
        try self.init(parts: Self.ggufParts(gguf))
    }

    static func ggufParts(_ gguf: GGUFTokenizerData) throws(TokenizerError) -> Parts {
        let count = gguf.tokens.count
        guard count > 0 else { throw .emptyVocabulary }
        let types = gguf.tokenTypes ?? [Int32](repeating: GGUFTokenType.normal, count: count)
        guard types.count == count else {
            throw .lengthMismatch(key: "tokenizer.ggml.token_type", expected: count, actual: types.count)
        }
        func checkedID(_ id: Int?, key: String) throws(TokenizerError) -> Int? {
            guard let id else { return nil }
            guard id >= 0, id < count else { throw .tokenIDOutOfRange(key: key, id: id, vocabularySize: count) }
            return id
        }
        let bos = try checkedID(gguf.bosTokenID, key: "tokenizer.ggml.bos_token_id")
        let eos = try checkedID(gguf.eosTokenID, key: "tokenizer.ggml.eos_token_id")
        let unknown = try checkedID(gguf.unknownTokenID, key: "tokenizer.ggml.unknown_token_id")

        var vocabulary: [ByteString: Int32] = [:]
        vocabulary.reserveCapacity(count)
        for (id, token) in gguf.tokens.enumerated() { vocabulary[ByteString(token)] = Int32(id) }

        var addedTokens: [AddedToken] = []
        for (id, type) in types.enumerated()
        where type == GGUFTokenType.control || type == GGUFTokenType.userDefined || type == GGUFTokenType.unknown {
            let content = Array(gguf.tokens[id].unicodeScalars)
            guard !content.isEmpty else { continue }
            addedTokens.append(AddedToken(
                content: content, id: Int32(id), special: type != GGUFTokenType.userDefined))
        }

        var addBOSDefault = false
        let normalizer: (any Normalizer)?
        let preTokenizer: (any PreTokenizer)?
        let model: BytePairModel
        var decoder = TokenDecoder()
        switch gguf.model {
        case "gpt2":
            guard let mergeList = gguf.merges else {
                throw .invalidValue(path: "tokenizer.ggml.merges", reason: "missing for a gpt2 tokenizer")
            }
            let pre = gguf.pre ?? "default"
            var ignoreMerges = false
            guard let known = KnownPreTokenizer(ggufName: pre) else { throw .unknownPreTokenizer(pre) }
            preTokenizer = known.stage
            if known == .llama3 {
                // llama.cpp: Llama 3 ignores merges for whole-word tokens and adds BOS.
                ignoreMerges = true
                addBOSDefault = true
            }
            // Qwen2's tokenizer.json (what the GGUF was converted from, and what vLLM tokenizes
            // with) composes the text to NFC first; llama.cpp skips that, so it splits
            // decomposed accents differently. We follow the Hugging Face tokenizer.
            normalizer = known == .qwen2 ? UnicodeFormNormalizer(form: .nfc) : nil
            var merges = MergeTable()
            for (rank, rule) in mergeList.enumerated() {
                guard let (left, right) = splitMerge(rule),
                      let leftID = vocabulary[ByteString(left)], let rightID = vocabulary[ByteString(right)],
                      let mergedID = vocabulary[ByteString(left + right)] else { continue }
                merges.add(left: leftID, right: rightID, merged: mergedID, rank: UInt32(rank))
            }
            // Bytes missing from the vocabulary are dropped, not made unknown: llama.cpp and
            // `tokenizers` agree (SmolLM2 lacks 0x04, for one, yet names an unknown token).
            model = BytePairModel(
                vocabulary: vocabulary, merges: merges, alphabet: .byteLevel, unknownID: nil, ignoreMerges: ignoreMerges)
            decoder.byteLevel = true
        case "llama":
            guard let scores = gguf.scores else {
                throw .invalidValue(path: "tokenizer.ggml.scores", reason: "missing for a llama tokenizer")
            }
            guard scores.count == count else {
                throw .lengthMismatch(key: "tokenizer.ggml.scores", expected: count, actual: scores.count)
            }
            addBOSDefault = true
            let addSpacePrefix = gguf.addSpacePrefix ?? true
            let replace = ReplaceNormalizer(pattern: [" "], content: ["\u{2581}"])
            normalizer = addSpacePrefix
                ? SequenceNormalizer(stages: [PrependNormalizer(prefix: [" "]), replace])
                : replace
            preTokenizer = nil
            model = BytePairModel(
                vocabulary: vocabulary, merges: scoreMerges(tokens: gguf.tokens, scores: scores, vocabulary: vocabulary),
                alphabet: .scalars(byteFallback: true), unknownID: unknown.map(Int32.init))
            decoder.replacements = [("\u{2581}", " ")]
            decoder.byteFallback = true
            decoder.stripLeadingSpace = addSpacePrefix
        default:
            throw .unknownModel(gguf.model)
        }

        let addBOS = gguf.addBOS ?? addBOSDefault
        let addEOS = gguf.addEOS ?? false
        return Parts(
            normalizer: normalizer, preTokenizer: preTokenizer, model: model, decoder: decoder,
            tokens: gguf.tokens, addedTokens: addedTokens,
            prefixIDs: addBOS ? bos.map { [$0] } ?? [] : [],
            suffixIDs: addEOS ? eos.map { [$0] } ?? [] : [],
            bosTokenID: bos, eosTokenID: eos,
            unusedIDs: types.indices.filter { types[$0] == GGUFTokenType.unused })
    }

    /// "Ġ t" → ("Ġ", "t"): split at the first space after the first character, as llama.cpp
    /// does, so that a left part which is itself a space still works.
    static func splitMerge(_ rule: String) -> (String, String)? {
        let scalars = Array(rule.unicodeScalars)
        guard scalars.count >= 3, let space = scalars[1...].firstIndex(of: " ") else { return nil }
        return (String(String.UnicodeScalarView(scalars[..<space])),
                String(String.UnicodeScalarView(scalars[(space + 1)...])))
    }

    /// SentencePiece merges: every token that is the concatenation of two tokens can be formed
    /// from them, and higher-scoring tokens form first. Equal scores share a rank.
    static func scoreMerges(tokens: [String], scores: [Float], vocabulary: [ByteString: Int32]) -> MergeTable {
        let distinct = Set(scores.map { $0.isNaN ? -Float.infinity : $0 }).sorted(by: >)
        var rankOf: [Float: UInt32] = [:]
        for (rank, score) in distinct.enumerated() { rankOf[score] = UInt32(rank) }
        var merges = MergeTable()
        for (id, token) in tokens.enumerated() {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            let score = scores[id].isNaN ? -Float.infinity : scores[id]
            let rank = rankOf[score] ?? UInt32.max - 1
            for cut in 1..<scalars.count {
                guard let left = vocabulary[ByteString(scalars: scalars[..<cut])],
                      let right = vocabulary[ByteString(scalars: scalars[cut...])] else { continue }
                merges.add(left: left, right: right, merged: Int32(id), rank: rank)
            }
        }
        return merges
    }
}
