/// The model stage: byte-pair encoding of one pre-token piece into token ids.
///
/// A piece starts as one symbol per byte (byte-level alphabet, GPT-2 style) or per Unicode
/// scalar (SentencePiece style), each symbol a token id; then `MergeTable` merges adjacent
/// pairs by rank until none applies. Results are cached per piece in `WordCache`.
///
///     "hello" (byte level)  h e l l o → he l l o → he ll o → hell o → hello
struct BytePairModel: Sendable {
    enum Alphabet: Sendable {
        /// Each UTF-8 byte is one initial symbol, the token spelling it in `ByteLevelAlphabet`.
        case byteLevel
        /// Each scalar is one initial symbol. A scalar missing from the vocabulary becomes the
        /// `<0xNN>` tokens of its UTF-8 bytes when `byteFallback` is set, else the unknown token.
        case scalars(byteFallback: Bool)
    }

    /// Token text (as spelled in the vocabulary) → id.
    let vocabulary: [ByteString: Int32]
    let merges: MergeTable
    let alphabet: Alphabet
    /// `byteTokens[b]`: for `.byteLevel` the token spelling byte `b`, for `.scalars` the
    /// `<0xNN>` token; -1 when the vocabulary lacks it.
    let byteTokens: [Int32]
    let unknownID: Int32?
    /// Consecutive unknown symbols become one unknown token (tokenizer.json `fuse_unk`).
    let fuseUnknown: Bool
    /// A piece that is itself a token is encoded as that token without merging
    /// (tokenizer.json `ignore_merges`, set by Llama 3).
    let ignoreMerges: Bool
    private let cache = WordCache()

    init(
        vocabulary: [ByteString: Int32], merges: MergeTable, alphabet: Alphabet, unknownID: Int32?,
        fuseUnknown: Bool = false, ignoreMerges: Bool = false
    ) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.alphabet = alphabet
        self.unknownID = unknownID
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        byteTokens = (0..<256).map { byte in
            let spelling: String = switch alphabet {
            case .byteLevel: String(ByteLevelAlphabet.scalars[byte])
            case .scalars: byteFallbackToken(UInt8(byte))
            }
            return vocabulary[ByteString(spelling)] ?? -1
        }
    }

    /// Appends the ids of `piece` to `ids`.
    func encode(_ piece: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        var key = ByteString([])
        key.bytes.reserveCapacity(piece.count)
        for scalar in piece { key.bytes.append(contentsOf: scalar.utf8) }
        if key.bytes.isEmpty { return }
        let cacheable = key.bytes.count <= 256
        if cacheable, let cached = cache.ids(for: key) {
            for id in cached { ids.append(Int(id)) }
            return
        }
        var symbols = initialSymbols(piece, utf8: key.bytes)
        if ignoreMerges, let whole = wholeToken(piece, utf8: key.bytes) {
            symbols = [whole]
        } else {
            merges.merge(&symbols)
        }
        if cacheable { cache.store(symbols, for: key) }
        for id in symbols { ids.append(Int(id)) }
    }

    /// The token spelling the whole piece, if there is one.
    private func wholeToken(_ piece: ArraySlice<Unicode.Scalar>, utf8: [UInt8]) -> Int32? {
        switch alphabet {
        case .byteLevel: vocabulary[ByteString(ByteLevelAlphabet.spell(utf8))]
        case .scalars: vocabulary[ByteString(utf8)]
        }
    }

    private func initialSymbols(_ piece: ArraySlice<Unicode.Scalar>, utf8: [UInt8]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(utf8.count)
        var lastWasUnknown = false
        func appendUnknown() {
            guard let unknownID else { return }  // no unknown token: the symbol is dropped
            if fuseUnknown, lastWasUnknown { return }
            symbols.append(unknownID)
            lastWasUnknown = true
        }
        switch alphabet {
        case .byteLevel:
            for byte in utf8 {
                let id = byteTokens[Int(byte)]
                if id >= 0 {
                    symbols.append(id)
                    lastWasUnknown = false
                } else {
                    appendUnknown()
                }
            }
        case .scalars(let byteFallback):
            var scalarUTF8 = ByteString([])
            for scalar in piece {
                scalarUTF8.bytes.removeAll(keepingCapacity: true)
                scalarUTF8.bytes.append(contentsOf: scalar.utf8)
                if let id = vocabulary[scalarUTF8] {
                    symbols.append(id)
                    lastWasUnknown = false
                } else if byteFallback, scalarUTF8.bytes.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
                    for byte in scalarUTF8.bytes { symbols.append(byteTokens[Int(byte)]) }
                    lastWasUnknown = false
                } else {
                    appendUnknown()
                }
            }
        }
        return symbols
    }
}

/// SentencePiece's spelling of a raw byte token, e.g. "<0x0A>" for a newline.
func byteFallbackToken(_ byte: UInt8) -> String {
    let hex = String(byte, radix: 16, uppercase: true)
    return "<0x" + (byte < 16 ? "0" : "") + hex + ">"
}
