import Synchronization

/// A tokenizer's vocabulary as the grammar engine sees it: each token's bytes, the stop tokens,
/// and a trie over the bytes, stored in preorder so that a mask is one pass over flat arrays
/// that skips every subtree whose prefix the grammar cannot take.
///
/// Built once per tokenizer and shared by every grammar compiled for it. Tokens without bytes
/// (special tokens, padding, ids past the tokenizer's end of a wider logits row) are never
/// allowed; stop tokens are allowed exactly where the grammar can end.
public final class TokenVocabulary: Sendable {
    /// Local masks by signature, shared by every grammar over this vocabulary (see
    /// `Automaton.signature`); dropped whole when full.
    private let localMasks = Mutex<[[Int32]: (words: [UInt32], undecided: [Int32])]>([:])
    static let sharedMaskLimit = 1024

    /// The logits width: masks have one bit per id in `0..<size`.
    public let size: Int
    public let stopTokens: [Int]
    let tokenBytes: [[UInt8]?]

    // The trie, nodes in preorder (the root is implicit). Node `i` takes byte `nodeByte[i]` at
    // depth `nodeDepth[i]` (1-based); its subtree ends before `subtreeEnd[i]`; the tokens spelled
    // exactly by the path to it are `tokenIDs[tokenStart[i]..<tokenStart[i + 1]]`.
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    /// The node above each node (-1 at depth 1).
    let nodeParent: [Int32]
    let subtreeEnd: [Int32]
    let tokenStart: [Int32]
    let tokenIDs: [Int32]
    let maxDepth: Int

    /// - Parameters:
    ///   - size: the logits width (at least the number of token ids).
    ///   - stopTokens: ids that end the output (EOS, `<|im_end|>`); never matched as text.
    ///   - bytes: each id's text as bytes, or nil for ids that are never output by a grammar.
    public init(size: Int, stopTokens: [Int], bytes: (Int) -> [UInt8]?) {
        self.size = size
        self.stopTokens = stopTokens.filter { (0..<size).contains($0) }
        let stops = Set(self.stopTokens)
        var table: [[UInt8]?] = []
        table.reserveCapacity(size)
        var entries: [(bytes: [UInt8], id: Int32)] = []
        for id in 0..<size {
            let b = stops.contains(id) ? nil : bytes(id)
            let text = (b?.isEmpty ?? true) ? nil : b
            table.append(text)
            if let text { entries.append((text, Int32(id))) }
        }
        tokenBytes = table
        entries.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) || ($0.bytes == $1.bytes && $0.id < $1.id) }

        var nodeByte: [UInt8] = [], nodeDepth: [UInt16] = [], subtreeEnd: [Int32] = [], nodeParent: [Int32] = []
        var tokenStart: [Int32] = [], tokenIDs: [Int32] = []
        var path: [Int] = []
        var previous: [UInt8] = []
        var maxDepth = 0
        for (text, id) in entries {
            var common = 0
            while common < min(previous.count, text.count), previous[common] == text[common] { common += 1 }
            while path.count > common { subtreeEnd[path.removeLast()] = Int32(nodeByte.count) }
            for d in common..<text.count {
                nodeParent.append(path.last.map(Int32.init) ?? -1)
                path.append(nodeByte.count)
                nodeByte.append(text[d])
                nodeDepth.append(UInt16(clamping: d + 1))
                subtreeEnd.append(0)
                tokenStart.append(Int32(tokenIDs.count))
            }
            tokenIDs.append(id)
            maxDepth = max(maxDepth, text.count)
            previous = text
        }
        while let n = path.popLast() { subtreeEnd[n] = Int32(nodeByte.count) }
        tokenStart.append(Int32(tokenIDs.count))
        self.nodeByte = nodeByte
        self.nodeDepth = nodeDepth
        self.nodeParent = nodeParent
        self.subtreeEnd = subtreeEnd
        self.tokenStart = tokenStart
        self.tokenIDs = tokenIDs
        self.maxDepth = maxDepth
    }

    /// The bytes of `id` as grammar text, or nil when a grammar never outputs it.
    public func bytes(of id: Int) -> [UInt8]? {
        tokenBytes.indices.contains(id) ? tokenBytes[id] : nil
    }

    public var trieNodeCount: Int { nodeByte.count }

    func sharedLocalMask(_ key: [Int32]) -> (words: [UInt32], undecided: [Int32])? {
        localMasks.withLock { $0[key] }
    }

    func shareLocalMask(_ key: [Int32], _ mask: (words: [UInt32], undecided: [Int32])) {
        localMasks.withLock { masks in
            if masks.count >= Self.sharedMaskLimit { masks.removeAll() }
            masks[key] = mask
        }
    }
}
