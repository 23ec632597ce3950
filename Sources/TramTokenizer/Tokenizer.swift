/// Text ↔ token ids for one model: added tokens → normalizer → pre-tokenizer → BPE model, and
/// back through the decoder stage.
///
///     "<|im_start|>user\nHi 42"
///       added tokens   <|im_start|> | "user\nHi 42"
///       normalizer     (none for byte-level models)
///       pre-tokenizer  "user" "\n" "Hi" " " "4" "2"       (SmolLM2: digits, then GPT-2 regex)
///       model          [1] [4093] [198] [26843] [216] [36] [34]
///
/// Built once from a tokenizer.json or GGUF metadata, then immutable and safe to share across
/// threads; the only mutable state is an internal, locked cache of encoded words.
public final class Tokenizer: Sendable {
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: BytePairModel
    let addedTokens: AddedTokenMatcher
    /// Token text by id; nil for ids that name no token (gaps between the model's vocabulary
    /// and added tokens).
    let tokens: [String?]
    /// Added tokens by their exact text (they may be absent from the model's vocabulary).
    let addedTokenIDs: [ByteString: Int32]
    let table: DecodingTable
    /// Ids put before and after the text when `addSpecialTokens` is true (BOS, EOS).
    let prefixIDs: [Int]
    let suffixIDs: [Int]

    public let bosTokenID: Int?
    public let eosTokenID: Int?
    let unused: Set<Int>

    /// Everything a loader decides; the initializer only assembles it.
    struct Parts {
        var normalizer: (any Normalizer)?
        var preTokenizer: (any PreTokenizer)?
        var model: BytePairModel
        var decoder: TokenDecoder
        var tokens: [String?]
        var addedTokens: [AddedToken]
        var prefixIDs: [Int]
        var suffixIDs: [Int]
        var bosTokenID: Int?
        var eosTokenID: Int?
        /// Ids a GGUF marks unused (padding rows such as Qwen2.5's `[PAD151665]`…).
        var unusedIDs: [Int] = []
    }

    init(parts: Parts) {
        normalizer = parts.normalizer
        preTokenizer = parts.preTokenizer
        model = parts.model
        addedTokens = AddedTokenMatcher(parts.addedTokens)
        tokens = parts.tokens
        var addedTokenIDs: [ByteString: Int32] = [:]
        var special = [Bool](repeating: false, count: parts.tokens.count)
        for token in parts.addedTokens {
            addedTokenIDs[ByteString(scalars: token.content)] = token.id
            if token.special { special[Int(token.id)] = true }
        }
        self.addedTokenIDs = addedTokenIDs
        table = DecodingTable(tokens: parts.tokens, special: special, decoder: parts.decoder)
        prefixIDs = parts.prefixIDs
        suffixIDs = parts.suffixIDs
        bosTokenID = parts.bosTokenID
        eosTokenID = parts.eosTokenID
        unused = Set(parts.unusedIDs)
    }

    /// The id of the added (special or user-defined) token whose text is exactly `text`.
    package func addedTokenID(for text: String) -> Int? {
        addedTokenIDs[ByteString(text)].map(Int.init)
    }

    /// One more than the largest token id.
    public var vocabularySize: Int { tokens.count }

    /// The token ids of `text`. With `addSpecialTokens`, BOS and EOS are added as the
    /// tokenizer's configuration says (SmolLM2 adds neither; Llama adds BOS).
    /// Added tokens such as "<|im_start|>" in `text` are always recognised.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        if addSpecialTokens { ids.append(contentsOf: prefixIDs) }
        let scalars = Array(text.unicodeScalars)
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        for segment in addedTokens.segments(scalars) {
            switch segment {
            case .token(let id):
                ids.append(Int(id))
            case .text(let range):
                pieces.removeAll(keepingCapacity: true)
                let startsText = range.lowerBound == 0
                if let normalizer {
                    let normalized = normalizer.normalize(Array(scalars[range]))
                    split(normalized[...], startsText: startsText, into: &pieces)
                } else {
                    split(scalars[range], startsText: startsText, into: &pieces)
                }
                for piece in pieces { model.encode(piece, into: &ids) }
            }
        }
        if addSpecialTokens { ids.append(contentsOf: suffixIDs) }
        return ids
    }

    /// The pieces `encode` hands to the model: added tokens whole, other text as the
    /// normalizer and pre-tokenizer leave it (so SentencePiece pieces show "▁"). For tests
    /// and debugging.
    package func preTokenize(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var result: [String] = []
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        for segment in addedTokens.segments(scalars) {
            switch segment {
            case .token(let id):
                result.append(tokens[Int(id)] ?? "")
            case .text(let range):
                pieces.removeAll(keepingCapacity: true)
                let text = normalizer.map { $0.normalize(Array(scalars[range]))[...] } ?? scalars[range]
                split(text, startsText: range.lowerBound == 0, into: &pieces)
                result += pieces.map { String(String.UnicodeScalarView($0)) }
            }
        }
        return result
    }

    private func split(
        _ text: ArraySlice<Unicode.Scalar>, startsText: Bool, into pieces: inout [ArraySlice<Unicode.Scalar>]
    ) {
        if let preTokenizer {
            preTokenizer.split(text, startsText: startsText, into: &pieces)
        } else if !text.isEmpty {
            pieces.append(text)
        }
    }

    /// The text of `ids`. Ids outside the vocabulary are skipped (never a crash); invalid
    /// UTF-8 from byte tokens becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        var atStart = true
        for id in ids { table.append(id, skipSpecialTokens: skipSpecialTokens, to: &bytes, atStart: &atStart) }
        return UTF8Repair.decode(bytes[...], final: true).text
    }

    /// The raw bytes `id` decodes to in the middle of a text (a byte-level token may hold part of
    /// a UTF-8 character). Empty for ids outside the vocabulary.
    public func bytes(of id: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var atStart = false
        table.append(id, skipSpecialTokens: false, to: &bytes, atStart: &atStart)
        return bytes
    }

    /// The id of the token spelled exactly `token` (as in the vocabulary, e.g. "Ġworld"), if any.
    public func tokenID(for token: String) -> Int? {
        let key = ByteString(token)
        if let id = addedTokenIDs[key] ?? model.vocabulary[key] { return Int(id) }
        return nil
    }

    /// The vocabulary's spelling of `id`, or nil when `id` names no token.
    public func token(for id: Int) -> String? {
        guard id >= 0, id < tokens.count else { return nil }
        return tokens[id]
    }

    /// Whether `id` is a special token (control tokens such as "<|im_end|>"); false for ids
    /// outside the vocabulary.
    public func isSpecial(_ id: Int) -> Bool {
        id >= 0 && id < table.special.count && table.special[id]
    }

    /// Whether the vocabulary marks `id` unused: a padding row no model is trained to output
    /// (Qwen2.5's GGUF pads 151,665 tokens to 151,936 with `[PAD151665]`…).
    public func isUnused(_ id: Int) -> Bool {
        unused.contains(id)
    }

    /// A decoder for streaming output one token at a time; see `StreamingDecoder`.
    public func makeStreamingDecoder(skipSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(table: table, skipSpecialTokens: skipSpecialTokens)
    }
}
