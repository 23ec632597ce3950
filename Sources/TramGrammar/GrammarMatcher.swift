/// One output's position in a compiled grammar: the state id of the shared automaton. A value
/// (copying it is a checkpoint), so speculative decoding and preemption roll back by keeping an
/// earlier copy or by replaying the kept tokens from `init(grammar:)`.
public struct GrammarMatcher: Sendable {
    public let grammar: CompiledGrammar
    public private(set) var state: Int32

    /// The state after a stop token was accepted.
    static let terminated: Int32 = -1

    public init(grammar: CompiledGrammar) {
        self.grammar = grammar
        state = grammar.initialState
    }

    /// Whether a stop token was accepted (the output is complete).
    public var isTerminated: Bool { state == Self.terminated }

    /// Whether the output so far is a complete sentence of the grammar (a stop token is allowed).
    public var canTerminate: Bool { !isTerminated && grammar.canEnd(state) }

    /// Whether the output is complete and nothing can follow it but a stop token.
    public var mustTerminate: Bool { isTerminated || grammar.mustEnd(state) }

    /// Takes `token` if the grammar allows it here; returns false (and stays put) otherwise.
    @discardableResult
    public mutating func accept(_ token: Int) -> Bool {
        guard !isTerminated, let next = grammar.advance(state, token: token) else { return false }
        state = next
        return true
    }

    /// Takes raw output bytes (text that did not come from a sampled token); false (staying
    /// put) when the grammar does not allow them.
    @discardableResult
    public mutating func accept(bytes: some Sequence<UInt8>) -> Bool {
        guard !isTerminated, let next = grammar.advance(state, bytes: bytes) else { return false }
        state = next
        return true
    }

    /// The tokens allowed next, one bit each (bit `i % 32` of word `i / 32`), over the
    /// vocabulary's `size`. All zero once terminated.
    public func nextTokenMask() -> [UInt32] {
        if isTerminated { return [UInt32](repeating: 0, count: (grammar.vocabulary.size + 31) / 32) }
        return grammar.mask(state)
    }

    /// The allowed tokens as ids, ascending (for tests and debugging; decoding uses the mask).
    public func allowedTokens() -> [Int] {
        let words = nextTokenMask()
        var ids: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            for bit in 0..<32 where word & (1 << UInt32(bit)) != 0 { ids.append(w * 32 + bit) }
        }
        return ids
    }
}
