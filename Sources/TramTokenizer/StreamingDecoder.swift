/// Turns token ids into text one id at a time, for streaming responses.
///
/// A token may end inside a UTF-8 character: 😀 is F0 9F 98 80, and a byte-level model can
/// emit it as three tokens ("ðŁĺ" + "Ģ" …). The decoder holds back such an incomplete tail
/// and emits the character whole once its last byte arrives; bytes that can no longer become
/// a character come out as U+FFFD. So the concatenation of every `push` and the final `flush`
/// equals `Tokenizer.decode` of all the ids.
///
///     pending bytes:  [ emitted ... | held back (≤ 3 bytes, a valid prefix) ]
public struct StreamingDecoder: Sendable {
    private let table: DecodingTable
    private let skipSpecialTokens: Bool
    private var pending: [UInt8] = []
    private var atStart = true

    init(table: DecodingTable, skipSpecialTokens: Bool) {
        self.table = table
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one token and returns the text it completes (often empty while a character is
    /// incomplete). Ids outside the vocabulary are skipped, as in `Tokenizer.decode`.
    public mutating func push(_ id: Int) -> String {
        table.append(id, skipSpecialTokens: skipSpecialTokens, to: &pending, atStart: &atStart)
        guard !pending.isEmpty else { return "" }
        let (text, consumed) = UTF8Repair.decode(pending[...], final: false)
        pending.removeFirst(consumed)
        return text
    }

    /// Ends the stream: returns whatever is held back, incomplete characters as U+FFFD.
    public mutating func flush() -> String {
        let (text, _) = UTF8Repair.decode(pending[...], final: true)
        pending.removeAll()
        return text
    }
}
