/// A set of Unicode scalars as byte-level grammar: alternatives of byte-set sequences, one per
/// range of scalars whose UTF-8 encodings vary only in ranges of each byte (the split regex
/// engines use, e.g. U+0080…U+07FF is `[\xC2-\xDF][\x80-\xBF]`).
///
///     [a-zé]  →  [a-z] | "\xC3" [\xA9]
///     [^"]    →  [\x00-!#-\x7F] | [\xC2-\xDF][\x80-\xBF] | … (every scalar but `"`)
public struct ScalarSet: Sendable, Equatable {
    /// Sorted, disjoint, non-adjacent closed ranges of scalar values.
    public private(set) var ranges: [ClosedRange<UInt32>] = []

    public init() {}

    public init(_ ranges: [ClosedRange<UInt32>]) {
        for r in ranges { insert(r) }
    }

    public static let all = ScalarSet([0...0xD7FF, 0xE000...0x10FFFF])

    public mutating func insert(_ range: ClosedRange<UInt32>) {
        var merged: [ClosedRange<UInt32>] = []
        var lo = range.lowerBound, hi = range.upperBound
        var placed = false
        for r in ranges {
            if r.upperBound &+ 1 < lo { merged.append(r); continue }
            if hi &+ 1 < r.lowerBound {
                if !placed { merged.append(lo...hi); placed = true }
                merged.append(r)
                continue
            }
            lo = min(lo, r.lowerBound)
            hi = max(hi, r.upperBound)
        }
        if !placed { merged.append(lo...hi) }
        ranges = merged
    }

    public mutating func insert(_ scalar: UInt32) { insert(scalar...scalar) }

    public mutating func formUnion(_ other: ScalarSet) {
        for r in other.ranges { insert(r) }
    }

    /// Every scalar (surrogates excluded) not in the set.
    public var inverted: ScalarSet {
        var out = ScalarSet()
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.insert(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= 0x10FFFF { out.insert(next...0x10FFFF) }
        return out.subtracting(0xD800...0xDFFF)
    }

    func subtracting(_ cut: ClosedRange<UInt32>) -> ScalarSet {
        var out = ScalarSet()
        for r in ranges {
            if r.upperBound < cut.lowerBound || r.lowerBound > cut.upperBound { out.ranges.append(r); continue }
            if r.lowerBound < cut.lowerBound { out.ranges.append(r.lowerBound...(cut.lowerBound - 1)) }
            if r.upperBound > cut.upperBound { out.ranges.append((cut.upperBound + 1)...r.upperBound) }
        }
        return out
    }

    public func contains(_ scalar: UInt32) -> Bool {
        ranges.contains { $0.contains(scalar) }
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// The set as byte-level grammar: one character of the set.
    public var expr: Grammar.Expr {
        var alternatives: [Grammar.Expr] = []
        var ascii = ByteSet()
        for r in subtracting(0xD800...0xDFFF).ranges {
            for piece in Self.splitByLength(r) {
                Self.split(piece.lowerBound, piece.upperBound) { seq in
                    if seq.count == 1 { ascii = ascii.union(seq[0]) } else { alternatives.append(.sequence(seq.map { .byteSet($0) })) }
                }
            }
        }
        if !ascii.isEmpty { alternatives.insert(.byteSet(ascii), at: 0) }
        if alternatives.count == 1 { return alternatives[0] }
        return .choice(alternatives)
    }

    private static let lengthLimits: [UInt32] = [0x7F, 0x7FF, 0xFFFF, 0x10FFFF]

    private static func splitByLength(_ r: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var lo = r.lowerBound
        for limit in lengthLimits where lo <= r.upperBound {
            if lo > limit { continue }
            let hi = min(limit, r.upperBound)
            out.append(lo...hi)
            lo = hi + 1
        }
        return out
    }

    /// Splits [lo, hi] (same encoded length) until each piece's encodings differ only in a range
    /// of each byte, then reports each piece as its byte sets.
    private static func split(_ lo: UInt32, _ hi: UInt32, _ emit: ([ByteSet]) -> Void) {
        let n = encode(lo).count
        if n > 1 {
            for i in 1..<n {
                let m: UInt32 = (1 << (6 * UInt32(i))) - 1
                if lo & ~m != hi & ~m {
                    if lo & m != 0 {
                        split(lo, lo | m, emit)
                        split((lo | m) + 1, hi, emit)
                        return
                    }
                    if hi & m != m {
                        split(lo, (hi & ~m) - 1, emit)
                        split(hi & ~m, hi, emit)
                        return
                    }
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        emit(zip(a, b).map { ByteSet($0...$1) })
    }

    static func encode(_ v: UInt32) -> [UInt8] {
        switch v {
        case 0..<0x80: return [UInt8(v)]
        case 0x80..<0x800: return [UInt8(0xC0 | (v >> 6)), UInt8(0x80 | (v & 0x3F))]
        case 0x800..<0x10000: return [UInt8(0xE0 | (v >> 12)), UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
        default: return [UInt8(0xF0 | (v >> 18)), UInt8(0x80 | ((v >> 12) & 0x3F)), UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
        }
    }
}
