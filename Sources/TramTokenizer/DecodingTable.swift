/// The bytes of every token id, computed once from the decoder stage so that decoding is a
/// table lookup. Shared (not copied) by the tokenizer and its streaming decoders.
final class DecodingTable: Sendable {
    /// `bytes[id]`: what the token decodes to; empty for ids that name no token.
    let bytes: [[UInt8]]
    /// `special[id]`: dropped when decoding with `skipSpecialTokens`.
    let special: [Bool]
    let stripLeadingSpace: Bool

    init(tokens: [String?], special: [Bool], decoder: TokenDecoder) {
        bytes = tokens.map { token in token.map(decoder.bytes(for:)) ?? [] }
        self.special = special
        stripLeadingSpace = decoder.stripLeadingSpace
    }

    /// Appends the bytes of `id`; ids outside the vocabulary are skipped. `atStart` tracks
    /// whether nothing has been appended yet, for stripping the leading space.
    func append(_ id: Int, skipSpecialTokens: Bool, to output: inout [UInt8], atStart: inout Bool) {
        guard id >= 0, id < bytes.count, !(skipSpecialTokens && special[id]) else { return }
        var tokenBytes = bytes[id][...]
        if tokenBytes.isEmpty { return }
        if atStart {
            atStart = false
            if stripLeadingSpace, tokenBytes.first == 0x20 { tokenBytes = tokenBytes.dropFirst() }
        }
        output.append(contentsOf: tokenBytes)
    }
}
