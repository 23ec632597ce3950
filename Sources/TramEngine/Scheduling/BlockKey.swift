/// Identifies the contents of one full KV block for prefix caching: which tokens it holds, what
/// came before it, and any extra key (a cache salt) that must keep otherwise equal prompts apart.
///
/// The chain makes a block's identity depend on the whole prefix:
///
///     block 0: hash(parent: 0,       tokens[0..<16],  extra)  = h0
///     block 1: hash(parent: h0,      tokens[16..<32], extra)  = h1
///     block 2: hash(parent: h1,      tokens[32..<48], extra)  = h2
///
/// `hash` is a stable 64-bit FNV-1a over little-endian bytes, so the same tokens give the same
/// value in every process (Swift's `Hasher` is seeded per process and cannot be used here). It is
/// only the dictionary's bucket; equality also compares the parent hash, the extra key and the
/// token ids themselves, so two different blocks whose hashes collide are never confused. The one
/// residual risk is two different *prefixes* whose 64-bit chain hashes collide followed by an
/// identical block — odds about 2⁻⁶⁴ per pair.
package struct BlockKey: Hashable, Sendable {
    /// Chained hash of this block: `stableHash(parentHash, extra, tokens)`.
    package let hash: UInt64
    /// `hash` of the previous block, 0 for the first block of a sequence.
    package let parentHash: UInt64
    /// Extra key mixed into every block (0 when there is none), e.g. `BlockKey.extraKey(salt:)`.
    package let extra: UInt64
    /// The block's token ids. // [blockSize]
    package let tokenIDs: [Int32]

    package init(parentHash: UInt64, tokenIDs: ArraySlice<Int32>, extra: UInt64) {
        var h = StableHash()
        h.combine(parentHash)
        h.combine(extra)
        for token in tokenIDs { h.combine(token) }
        self.hash = h.value
        self.parentHash = parentHash
        self.extra = extra
        self.tokenIDs = Array(tokenIDs)
    }

    /// A key with a chosen `hash`, to test that colliding hashes never merge different blocks.
    package init(forgingHash hash: UInt64, parentHash: UInt64, tokenIDs: [Int32], extra: UInt64) {
        self.hash = hash
        self.parentHash = parentHash
        self.extra = extra
        self.tokenIDs = tokenIDs
    }

    /// The extra key for a request's cache salt: 0 without a salt, else a stable hash of its
    /// UTF-8 bytes (never 0), so different salts never share cached blocks.
    package static func extraKey(salt: String?) -> UInt64 {
        guard let salt else { return 0 }
        var h = StableHash()
        for byte in salt.utf8 { h.combine(byte: byte) }
        return h.value == 0 ? 1 : h.value
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }

    package static func == (lhs: BlockKey, rhs: BlockKey) -> Bool {
        lhs.hash == rhs.hash && lhs.parentHash == rhs.parentHash && lhs.extra == rhs.extra
            && lhs.tokenIDs == rhs.tokenIDs
    }
}

/// 64-bit FNV-1a over little-endian bytes: deterministic across processes and platforms.
package struct StableHash: Sendable {
    package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    package mutating func combine(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    package mutating func combine(_ x: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { combine(byte: UInt8(truncatingIfNeeded: x >> UInt64(shift))) }
    }

    package mutating func combine(_ x: Int32) {
        let bits = UInt32(bitPattern: x)
        for shift in stride(from: 0, to: 32, by: 8) { combine(byte: UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }
}
