import Synchronization

/// A grammar ready to constrain decoding for one vocabulary: its program, and a pushdown
/// automaton over bytes built lazily as outputs explore it, with a token mask cached per state.
///
/// **States.** A matcher's position in the grammar is a set of stacks. A stack is a node
/// `(pc, parent)`: `pc` the next symbol of an alternative, `parent` the node to continue with
/// when the alternative ends (-1: the grammar is complete). Nodes are hash-consed, so stacks
/// share their tails and one id names a whole stack. A state is the sorted set of stacks whose
/// top is a terminal (the closure of calls and ends is taken eagerly) plus whether the grammar
/// can end here; states are interned, so the same position reached by any path is the same
/// state, and its byte transitions and token mask are computed once. A call in an alternative's
/// last position passes its caller's continuation on (a tail call), so `x*` loops on one state.
///
/// **Masks.** A state's mask walks the vocabulary trie (`TokenVocabulary`), following the byte
/// transitions and skipping every subtree whose prefix leads nowhere; a token is allowed when
/// all its bytes are taken. Stop tokens are allowed where the grammar can end.
///
/// The automaton is shared by every request using this grammar (the compile cache hands out one
/// instance per grammar source), behind a mutex. Transition tables and masks are caches: when
/// they outgrow their budget they are dropped and rebuilt on demand; states stay, since
/// matchers hold their ids.
public final class CompiledGrammar: Sendable {
    public let vocabulary: TokenVocabulary
    /// The source grammar's rule count, for logs and limits.
    public let ruleCount: Int
    private let automaton: Mutex<Automaton>

    public init(_ grammar: Grammar, vocabulary: TokenVocabulary) throws {
        let program = try Program(grammar)
        self.vocabulary = vocabulary
        ruleCount = program.ruleNames.count
        automaton = Mutex(Automaton(program: program))
    }

    /// The state before any output.
    public var initialState: Int32 { 0 }

    /// The state after `token` is output in `state`, or nil when the grammar does not allow it.
    /// A stop token moves to `GrammarMatcher.terminated` where the grammar can end.
    func advance(_ state: Int32, token: Int) -> Int32? {
        if vocabulary.stopTokens.contains(token) {
            return canEnd(state) ? GrammarMatcher.terminated : nil
        }
        guard let bytes = vocabulary.bytes(of: token) else { return nil }
        return automaton.withLock { a in
            var s = state
            for b in bytes {
                s = a.next(s, b)
                if s < 0 { return nil }
            }
            return s
        }
    }

    /// The state after `bytes` (text outside the vocabulary: a prefix forced by a template),
    /// or nil when the grammar does not allow them.
    func advance(_ state: Int32, bytes: some Sequence<UInt8>) -> Int32? {
        automaton.withLock { a in
            var s = state
            for b in bytes {
                s = a.next(s, b)
                if s < 0 { return nil }
            }
            return s
        }
    }

    func canEnd(_ state: Int32) -> Bool {
        automaton.withLock { $0.accepting[Int(state)] }
    }

    /// Whether nothing but ending is possible in `state` (the output is complete).
    func mustEnd(_ state: Int32) -> Bool {
        automaton.withLock { $0.tops[Int(state)].isEmpty }
    }

    /// The allowed tokens in `state`: bit `i % 32` of word `i / 32` for token `i`.
    func mask(_ state: Int32) -> [UInt32] {
        automaton.withLock { a in a.mask(state, vocabulary) }
    }

    /// Counters for logs and benchmarks.
    public struct Statistics: Sendable {
        public var states: Int
        public var stackNodes: Int
        public var cachedMasks: Int
        public var maskComputations: Int
    }

    public var statistics: Statistics {
        automaton.withLock { Statistics(states: $0.tops.count, stackNodes: $0.nodePC.count, cachedMasks: $0.masks.count, maskComputations: $0.maskComputations) }
    }
}

/// The lazily built pushdown automaton of a `CompiledGrammar` (see there).
struct Automaton: ~Copyable {
    let program: Program

    // Stack nodes, hash-consed: (pc, parent) → id.
    var nodePC: [Int32] = []
    var nodeParent: [Int32] = []
    var nodeIndex: [UInt64: Int32] = [:]

    // States: the terminal-topped nodes (sorted), whether the grammar can end; interned.
    var tops: [[Int32]] = []
    var accepting: [Bool] = []
    var stateIndex: [StateKey: Int32] = [:]

    // Byte transitions, 256 per state that has any: -2 not computed, -1 dead.
    var transitionBase: [Int32] = []
    var transitions: [Int32] = []
    static let transitionLimit = 64 << 20

    var masks: [Int32: [UInt32]] = [:]
    var maskWords = 0
    var maskComputations = 0
    static let maskWordLimit = (64 << 20) / 4

    struct StateKey: Hashable {
        var tops: [Int32]
        var accepting: Bool
    }

    init(program: Program) {
        self.program = program
        let start = program.alternatives[0].map { ($0, Int32(-1)) }
        _ = closure(start)
    }

    private mutating func node(_ pc: Int32, _ parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: pc)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let id = nodeIndex[key] { return id }
        let id = Int32(nodePC.count)
        nodePC.append(pc)
        nodeParent.append(parent)
        nodeIndex[key] = id
        return id
    }

    /// The state of the stacks `items` (pc, parent) once calls are expanded and ended
    /// alternatives popped; -1 when nothing can follow and the grammar cannot end.
    private mutating func closure(_ items: [(Int32, Int32)]) -> Int32 {
        var work = items
        var visited = Set<UInt64>()
        var terminalTops: [Int32] = []
        var canEnd = false
        let symbols = program.symbols
        while let (pc, parent) = work.popLast() {
            let key = UInt64(UInt32(bitPattern: pc)) << 32 | UInt64(UInt32(bitPattern: parent))
            guard visited.insert(key).inserted else { continue }
            let code = symbols[Int(pc)]
            if code >= 0 {
                terminalTops.append(node(pc, parent))
            } else if code == Program.end {
                if parent < 0 { canEnd = true } else { work.append((nodePC[Int(parent)], nodeParent[Int(parent)])) }
            } else {
                let continuation = symbols[Int(pc) + 1] == Program.end ? parent : node(pc + 1, parent)
                for start in program.alternatives[Program.rule(ofCall: code)] {
                    work.append((start, continuation))
                }
            }
        }
        if terminalTops.isEmpty && !canEnd { return -1 }
        terminalTops.sort()
        let key = StateKey(tops: terminalTops, accepting: canEnd)
        if let id = stateIndex[key] { return id }
        let id = Int32(tops.count)
        tops.append(terminalTops)
        accepting.append(canEnd)
        transitionBase.append(-1)
        stateIndex[key] = id
        return id
    }

    /// The state after byte `b` in `state` (-1: dead).
    mutating func next(_ state: Int32, _ b: UInt8) -> Int32 {
        var base = transitionBase[Int(state)]
        if base < 0 {
            if transitions.count >= Self.transitionLimit {
                transitions.removeAll(keepingCapacity: true)
                for i in transitionBase.indices { transitionBase[i] = -1 }
            }
            base = Int32(transitions.count)
            transitionBase[Int(state)] = base
            transitions.append(contentsOf: repeatElement(-2, count: 256))
        }
        let slot = Int(base) + Int(b)
        let known = transitions[slot]
        if known != -2 { return known }
        var items: [(Int32, Int32)] = []
        for top in tops[Int(state)] {
            let pc = nodePC[Int(top)]
            if program.sets[Int(program.symbols[Int(pc)])].contains(b) {
                items.append((pc + 1, nodeParent[Int(top)]))
            }
        }
        let target = items.isEmpty ? -1 : closure(items)
        transitions[slot] = target
        return target
    }

    mutating func mask(_ state: Int32, _ vocabulary: TokenVocabulary) -> [UInt32] {
        if let cached = masks[state] { return cached }
        maskComputations += 1
        var words = [UInt32](repeating: 0, count: (vocabulary.size + 31) / 32)
        var stateAt = [Int32](repeating: 0, count: vocabulary.maxDepth + 1)
        stateAt[0] = state
        let count = vocabulary.nodeByte.count
        var i = 0
        while i < count {
            let depth = Int(vocabulary.nodeDepth[i])
            let s = next(stateAt[depth - 1], vocabulary.nodeByte[i])
            if s < 0 {
                i = Int(vocabulary.subtreeEnd[i])
                continue
            }
            stateAt[depth] = s
            for t in vocabulary.tokenStart[i]..<vocabulary.tokenStart[i + 1] {
                let id = Int(vocabulary.tokenIDs[Int(t)])
                words[id >> 5] |= 1 << UInt32(id & 31)
            }
            i += 1
        }
        if accepting[Int(state)] {
            for id in vocabulary.stopTokens { words[id >> 5] |= 1 << UInt32(id & 31) }
        }
        if maskWords + words.count > Self.maskWordLimit {
            masks.removeAll()
            maskWords = 0
        }
        masks[state] = words
        maskWords += words.count
        return words
    }
}
