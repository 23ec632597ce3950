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
        return advance(state, bytes: bytes)
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
        /// Local masks walked over the whole trie, and those found in the vocabulary's cache.
        public var localWalks: Int
        public var sharedHits: Int
        /// Trie nodes visited by local walks and by walks from real states.
        public var localNodes: Int
        public var realNodes: Int

        public init(states: Int = 0, stackNodes: Int = 0, cachedMasks: Int = 0, maskComputations: Int = 0, localWalks: Int = 0,
                    sharedHits: Int = 0, localNodes: Int = 0, realNodes: Int = 0) {
            self.states = states
            self.stackNodes = stackNodes
            self.cachedMasks = cachedMasks
            self.maskComputations = maskComputations
            self.localWalks = localWalks
            self.sharedHits = sharedHits
            self.localNodes = localNodes
            self.realNodes = realNodes
        }
    }

    public var statistics: Statistics {
        automaton.withLock { Statistics(states: $0.tops.count, stackNodes: $0.nodePC.count, cachedMasks: $0.masks.count, maskComputations: $0.maskComputations,
                       localWalks: $0.localWalks, sharedHits: $0.sharedHits, localNodes: $0.localNodes, realNodes: $0.realNodes)  }
    }
}

/// The lazily built pushdown automaton of a `CompiledGrammar` (see there).
///
/// **Context-independent masks.** Most of a state's mask does not depend on the deep part of
/// its stacks: inside a JSON string every property's string allows the same tokens, until a
/// token closes the string. So a state's mask is computed in two parts (XGrammar's split of
/// context-independent and context-dependent tokens, done here on the stacks themselves):
/// 1. its *local* state — every stack cut to its top `localDepth` frames, the rest replaced by
///    a sentinel — walks the trie; a token taken without ever popping into the sentinel is
///    allowed whatever lies below, one that dies without popping is refused whatever lies
///    below, and the subtrees where a pop happens are left undecided. Local states are shared
///    by every context with the same top frames, so this walk is done once for all of them;
/// 2. only the undecided subtrees are walked from the real state.
struct Automaton: ~Copyable {
    let program: Program

    // Stack nodes, hash-consed: (pc, parent) → id. Parent -1: the grammar's end; -2: the
    // sentinel under a local state's cut stacks.
    var nodePC: [Int32] = []
    var nodeParent: [Int32] = []
    var nodeIndex: [UInt64: Int32] = [:]
    static let sentinel: Int32 = -2
    static let localDepth = 3
    /// Trie nodes a local walk must visit for its mask to be shared with other grammars.
    static let shareThreshold = 4096

    // States: the terminal-topped nodes (sorted), whether the grammar can end, whether a stack
    // popped into the sentinel on the way here (local states only); interned.
    var tops: [[Int32]] = []
    var accepting: [Bool] = []
    var popped: [Bool] = []
    var stateIndex: [StateKey: Int32] = [:]
    /// Each stack's local state (see `localState(ofStack:)`).
    var localOfStack: [Int32: Int32] = [:]

    // Byte transitions, 256 per state that has any: -2 not computed, -1 dead.
    var transitionBase: [Int32] = []
    var transitions: [Int32] = []
    static let transitionLimit = 64 << 20

    var masks: [Int32: [UInt32]] = [:]
    /// Per local state: the tokens it decides to allow, and the trie nodes left undecided.
    var localMasks: [Int32: (words: [UInt32], undecided: [Int32])] = [:]
    var maskWords = 0
    var maskComputations = 0
    var localWalks = 0, sharedHits = 0, localNodes = 0, realNodes = 0
    static let maskWordLimit = (64 << 20) / 4
    var stateAt: [Int32] = []

    struct StateKey: Hashable {
        var tops: [Int32]
        var accepting: Bool
        var popped: Bool
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
    /// alternatives popped; -1 when nothing can follow, the grammar cannot end and no stack
    /// reached the sentinel.
    private mutating func closure(_ items: [(Int32, Int32)]) -> Int32 {
        var work = items
        var visited = Set<UInt64>(minimumCapacity: 4 * items.count + 16)
        var terminalTops: [Int32] = []
        var canEnd = false
        var reachedSentinel = false
        let symbols = program.symbols
        while let (pc, parent) = work.popLast() {
            let key = UInt64(UInt32(bitPattern: pc)) << 32 | UInt64(UInt32(bitPattern: parent))
            guard visited.insert(key).inserted else { continue }
            let code = symbols[Int(pc)]
            if code >= 0 {
                terminalTops.append(node(pc, parent))
            } else if code == Program.end {
                if parent == -1 { canEnd = true } else if parent == Self.sentinel { reachedSentinel = true } else {
                    work.append((nodePC[Int(parent)], nodeParent[Int(parent)]))
                }
            } else {
                let continuation = symbols[Int(pc) + 1] == Program.end ? parent : node(pc + 1, parent)
                for start in program.alternatives[Program.rule(ofCall: code)] {
                    work.append((start, continuation))
                }
            }
        }
        if terminalTops.isEmpty && !canEnd && !reachedSentinel { return -1 }
        terminalTops.sort()
        return intern(StateKey(tops: terminalTops, accepting: canEnd, popped: reachedSentinel))
    }

    private mutating func intern(_ key: StateKey) -> Int32 {
        if let id = stateIndex[key] { return id }
        let id = Int32(tops.count)
        tops.append(key.tops)
        accepting.append(key.accepting)
        popped.append(key.popped)
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

    /// The local state of one stack: the stack `top` cut to its top `localDepth` nodes over
    /// the sentinel (a stack no deeper is its own local state).
    private mutating func localState(ofStack top: Int32) -> Int32 {
        if let known = localOfStack[top] { return known }
        var chain: [Int32] = []
        var n = top
        while n >= 0, chain.count < Self.localDepth {
            chain.append(n)
            n = nodeParent[Int(n)]
        }
        var parent = n >= 0 ? Self.sentinel : n
        for m in chain.reversed() { parent = node(nodePC[Int(m)], parent) }
        let id = intern(StateKey(tops: [parent], accepting: false, popped: false))
        localOfStack[top] = id
        return id
    }

    /// A local state's mask: from this grammar's cache, or a walk of the trie. A walk that
    /// turns out long (a string's inside, where most tokens go on) is stopped and looked up
    /// in the vocabulary's cache first (another grammar with the same local state), and
    /// shared there once done.
    private mutating func localMask(_ l: Int32, _ vocabulary: TokenVocabulary) -> (words: [UInt32], undecided: [Int32]) {
        if let known = localMasks[l] { return known }
        var words = [UInt32](repeating: 0, count: (vocabulary.size + 31) / 32)
        var undecided: [Int32]? = []
        let all = 0..<vocabulary.nodeByte.count
        var key: [Int32]?
        if !walk(from: l, nodes: all, vocabulary, into: &words, undecided: &undecided, budget: Self.shareThreshold) {
            key = signature(l, horizon: vocabulary.maxDepth + 1)
            if let key, let shared = vocabulary.sharedLocalMask(key) {
                localMasks[l] = shared
                sharedHits += 1
                return shared
            }
            words = [UInt32](repeating: 0, count: words.count)
            undecided = []
            localWalks += 1
            _ = walk(from: l, nodes: all, vocabulary, into: &words, undecided: &undecided)
        }
        let mask = (words, undecided ?? [])
        localMasks[l] = mask
        maskWords += words.count
        if let key { vocabulary.shareLocalMask(key, mask) }
        return mask
    }

    /// A state's mask is the union of its stacks' masks (a token is allowed when some stack
    /// takes it). Stacks are grouped by their local state; each group's mask is the local
    /// state's decided part, plus the undecided subtrees walked from the group's real stacks.
    mutating func mask(_ state: Int32, _ vocabulary: TokenVocabulary) -> [UInt32] {
        if let cached = masks[state] { return cached }
        maskComputations += 1
        if stateAt.count < vocabulary.maxDepth + 1 { stateAt = [Int32](repeating: 0, count: vocabulary.maxDepth + 1) }
        var groups: [Int32: [Int32]] = [:]
        var order: [Int32] = []
        for top in tops[Int(state)] {
            let l = localState(ofStack: top)
            if groups[l] == nil { order.append(l) }
            groups[l, default: []].append(top)
        }
        var words = [UInt32](repeating: 0, count: (vocabulary.size + 31) / 32)
        var none: [Int32]? = nil
        for l in order {
            let (local, undecided) = localMask(l, vocabulary)
            words.withUnsafeMutableBufferPointer { out in
                local.withUnsafeBufferPointer { add in
                    for i in 0..<out.count { out[i] |= add[i] }
                }
            }
            guard !undecided.isEmpty else { continue }
            // The group's real stacks: alive above every undecided node, since their local
            // state (a part of them) was.
            let real = intern(StateKey(tops: groups[l]!, accepting: false, popped: false))
            for root in undecided {
                var path: [UInt8] = []
                var p = vocabulary.nodeParent[Int(root)]
                while p >= 0 { path.append(vocabulary.nodeByte[Int(p)]); p = vocabulary.nodeParent[Int(p)] }
                var s = real
                for b in path.reversed() where s >= 0 { s = next(s, b) }
                if s < 0 { continue }
                walk(from: s, nodes: Int(root)..<Int(vocabulary.subtreeEnd[Int(root)]), vocabulary, into: &words, undecided: &none)
            }
        }
        if accepting[Int(state)] {
            for id in vocabulary.stopTokens { words[id >> 5] |= 1 << UInt32(id & 31) }
        }
        if maskWords + words.count > Self.maskWordLimit {
            masks.removeAll()
            localMasks.removeAll()
            maskWords = 0
        }
        masks[state] = words
        maskWords += words.count
        return words
    }

    /// What decides a local state's mask, independent of where the grammar keeps it: for each
    /// stack (top first) the symbols from each node to the end of its alternative, then how
    /// the stack ends (the sentinel or the grammar's end), and the bodies of every rule those
    /// symbols can call, rules numbered in the order first met. Two local states with the same
    /// signature, in any grammars over this vocabulary, have the same mask: the string inside
    /// every JSON schema's properties is one entry. Nil when the reachable grammar is too large
    /// to be worth comparing.
    private func signature(_ state: Int32, horizon: Int) -> [Int32]? {
        var stacks: [[Int32]] = []
        var total = 0
        for top in tops[Int(state)] {
            var out: [Int32] = []
            var ruleIDs: [Int: Int32] = [:]
            var queue: [Int] = []
            func run(_ start: Int32) {
                var pc = Int(start)
                while program.symbols[pc] != Program.end {
                    let code = program.symbols[pc]
                    if code >= 0 {
                        let w = program.sets[Int(code)].words
                        out.append(-1)
                        for word in [w.0, w.1, w.2, w.3] { out.append(Int32(truncatingIfNeeded: word)); out.append(Int32(truncatingIfNeeded: word >> 32)) }
                    } else {
                        var rule = Program.rule(ofCall: code)
                        // A bounded repetition with more left than any token has bytes is the
                        // same, for one token's walk, as one with just that many left.
                        if let remaining = program.optionalRemaining[rule], remaining > horizon {
                            rule -= remaining - horizon
                        }
                        if ruleIDs[rule] == nil { ruleIDs[rule] = Int32(ruleIDs.count); queue.append(rule) }
                        out.append(ruleIDs[rule]!)
                    }
                    pc += 1
                }
                out.append(-2)
            }
            var n = top
            while n >= 0 {
                run(nodePC[Int(n)])
                n = nodeParent[Int(n)]
            }
            out.append(n == Self.sentinel ? -3 : -4)
            var next = 0
            while next < queue.count {
                for start in program.alternatives[queue[next]] { run(start) }
                out.append(-5)
                next += 1
                if out.count > 4_000 { return nil }
            }
            total += out.count
            if total > 8_000 { return nil }
            stacks.append(out)
        }
        stacks.sort { $0.lexicographicallyPrecedes($1) }
        return Array(stacks.joined(separator: [-6]))
    }

    /// Walks the trie nodes `nodes` (one subtree, or the whole trie) from `start`, the state
    /// above the first node, setting the bits of the tokens taken. With `undecided`, a node
    /// whose state popped into the sentinel is recorded there and its subtree skipped.
    /// With a `budget`, gives up (returning false, the bits half set) after that many nodes.
    @discardableResult
    private mutating func walk(from start: Int32, nodes: Range<Int>, _ vocabulary: TokenVocabulary,
                               into words: inout [UInt32], undecided: inout [Int32]?, budget: Int = .max) -> Bool {
        guard !nodes.isEmpty else { return true }
        let base = Int(vocabulary.nodeDepth[nodes.lowerBound]) - 1
        stateAt[base] = start
        var i = nodes.lowerBound
        var visited = 0
        defer { if undecided == nil { realNodes += visited } else { localNodes += visited } }
        while i < nodes.upperBound {
            visited += 1
            if visited > budget { return false }
            let depth = Int(vocabulary.nodeDepth[i])
            let s = next(stateAt[depth - 1], vocabulary.nodeByte[i])
            if s < 0 {
                i = Int(vocabulary.subtreeEnd[i])
                continue
            }
            if undecided != nil, popped[Int(s)] {
                undecided!.append(Int32(i))
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
        return true
    }
}
