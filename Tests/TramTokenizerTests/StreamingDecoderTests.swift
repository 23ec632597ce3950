import Testing
import TramTokenizer

/// The streaming decoder never emits part of a character, and what it emits adds up to
/// `decode` of the same ids.
@Suite struct StreamingDecoderTests {
    /// The id of the SmolLM2 token spelling one raw byte (GPT-2's byte-level alphabet).
    static func byteID(_ tokenizer: Tokenizer, _ byte: UInt8) throws -> Int {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        var scalar = Unicode.Scalar(byte)
        if !printable {
            let rank = (0..<Int(byte)).filter { value in
                !((0x21...0x7E).contains(value) || (0xA1...0xAC).contains(value) || (0xAE...0xFF).contains(value))
            }.count
            scalar = Unicode.Scalar(UInt32(256 + rank))!
        }
        return try #require(tokenizer.tokenID(for: String(scalar)))
    }

    static func stream(_ tokenizer: Tokenizer, _ ids: [Int], skipSpecialTokens: Bool = false) -> [String] {
        var decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: skipSpecialTokens)
        return ids.map { decoder.push($0) } + [decoder.flush()]
    }

    @Test func emojiSplitOverByteTokensComesOutWhole() throws {
        let tokenizer = try SmolLM2.gguf()
        let ids = try [0xF0, 0x9F, 0x98, 0x80].map { try Self.byteID(tokenizer, $0) }
        #expect(Self.stream(tokenizer, ids) == ["", "", "", "😀", ""])
    }

    @Test func cjkSplitOverByteTokensComesOutWhole() throws {
        let tokenizer = try SmolLM2.gguf()
        let ids = try [0x61, 0xE4, 0xB8, 0xAD, 0xE6, 0x96, 0x87].map { try Self.byteID(tokenizer, $0) }
        #expect(Self.stream(tokenizer, ids) == ["a", "", "", "中", "", "", "文", ""])
    }

    @Test func encodedEmojiTextNeverEmitsReplacementCharacters() throws {
        let tokenizer = try SmolLM2.gguf()
        let text = "Party 🎉👨‍👩‍👧 家族 🇫🇷 done"
        let ids = tokenizer.encode(text)
        let pieces = Self.stream(tokenizer, ids)
        #expect(pieces.allSatisfy { !$0.contains("\u{FFFD}") })
        #expect(pieces.joined() == text)
        // At least one token ends mid-character here, so some push must have returned nothing.
        #expect(pieces.dropLast().contains(""))
    }

    @Test func incompleteTailBecomesReplacementOnFlush() throws {
        let tokenizer = try SmolLM2.gguf()
        let ids = try [0x68, 0xF0, 0x9F].map { try Self.byteID(tokenizer, $0) }
        #expect(Self.stream(tokenizer, ids) == ["h", "", "", "\u{FFFD}"])
    }

    @Test func invalidBytesAreReplacedAsSoonAsTheyCannotComplete() throws {
        let tokenizer = try SmolLM2.gguf()
        // A lone continuation byte is hopeless at once; F0 waits until "A" shows it broken.
        let ids = try [0x80, 0xF0, 0x41].map { try Self.byteID(tokenizer, $0) }
        #expect(Self.stream(tokenizer, ids) == ["\u{FFFD}", "", "\u{FFFD}A", ""])
    }

    @Test func specialTokensAreTextOrSkipped() throws {
        let tokenizer = try SmolLM2.gguf()
        let ids = tokenizer.encode("<|im_start|>assistant\nHi!<|im_end|>")
        #expect(Self.stream(tokenizer, ids).joined() == "<|im_start|>assistant\nHi!<|im_end|>")
        #expect(Self.stream(tokenizer, ids, skipSpecialTokens: true).joined() == "assistant\nHi!")
        #expect(Self.stream(tokenizer, [1], skipSpecialTokens: true) == ["", ""])
    }

    @Test func specialTokenBetweenBytesOfACharacter() throws {
        let tokenizer = try SmolLM2.gguf()
        let ids = try [Self.byteID(tokenizer, 0xF0), 2, Self.byteID(tokenizer, 0x9F)]
        #expect(Self.stream(tokenizer, ids).joined() == tokenizer.decode(ids))
        #expect(tokenizer.decode(ids) == "\u{FFFD}<|im_end|>\u{FFFD}")
    }

    @Test func outOfRangeIDsAreSkipped() throws {
        let tokenizer = try SmolLM2.gguf()
        #expect(Self.stream(tokenizer, [19556, -3, 1 << 40, 905]) == ["Hello", "", "", " world", ""])
    }

    @Test(arguments: SmolLM2.Source.allCases, Fixtures.smolLM2Cases)
    func pushesAddUpToDecode(source: SmolLM2.Source, testCase: Fixtures.EncodeCase) throws {
        let tokenizer = try SmolLM2.tokenizer(source)
        for skip in [false, true] {
            let pieces = Self.stream(tokenizer, testCase.ids, skipSpecialTokens: skip)
            #expect(scalars(pieces.joined()) == scalars(tokenizer.decode(testCase.ids, skipSpecialTokens: skip)))
        }
    }
}
