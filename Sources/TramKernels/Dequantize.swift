/// Reference dequantization: decodes `count` elements of `type` at `src` into floats at `dst`.
///
/// `count` must be a multiple of `type.blockElements`. Plain scalar code that follows ggml's
/// `dequantize_row_*` literally; the matmul kernels never call it (they use integer dot products),
/// it serves embedding lookups, `WeightMatrix.dequantizedToFloat32()` and tests.
public func dequantize(_ type: DataType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count % type.blockElements == 0, "count \(count) is not a whole number of \(type) blocks")
    let blocks = count / type.blockElements
    switch type {
    case .f32:
        for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    case .f16:
        for i in 0..<count { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .bf16:
        for i in 0..<count { dst[i] = bfloat16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .q8_0:
        for b in 0..<blocks {
            let block = src + b * 34, out = dst + b * 32
            let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
            for k in 0..<32 { out[k] = d * Float(block.load(fromByteOffset: 2 + k, as: Int8.self)) }
        }
    case .q4_0:
        for b in 0..<blocks {
            let block = src + b * 18, out = dst + b * 32
            let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
            for k in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + k, as: UInt8.self)
                out[k] = d * Float(Int(byte & 0xF) - 8)
                out[k + 16] = d * Float(Int(byte >> 4) - 8)
            }
        }
    case .q4_1:
        for b in 0..<blocks {
            let block = src + b * 20, out = dst + b * 32
            let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
            let m = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            for k in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + k, as: UInt8.self)
                out[k] = d * Float(byte & 0xF) + m
                out[k + 16] = d * Float(byte >> 4) + m
            }
        }
    case .q5_0, .q5_1:
        let withMin = type == .q5_1, size = type.blockBytes
        for b in 0..<blocks {
            let block = src + b * size, out = dst + b * 32
            let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
            let m = withMin ? halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) : 0
            let qhOffset = withMin ? 4 : 2
            let qh = block.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self).littleEndian
            for k in 0..<16 {
                let byte = block.load(fromByteOffset: qhOffset + 4 + k, as: UInt8.self)
                let lo = Int(byte & 0xF) | Int((qh >> k) & 1) << 4
                let hi = Int(byte >> 4) | Int((qh >> (k + 16)) & 1) << 4
                if withMin {
                    out[k] = d * Float(lo) + m
                    out[k + 16] = d * Float(hi) + m
                } else {
                    out[k] = d * Float(lo - 16)
                    out[k + 16] = d * Float(hi - 16)
                }
            }
        }
    case .iq4_nl:
        for b in 0..<blocks {
            let block = src + b * 18, out = dst + b * 32
            let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
            for k in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + k, as: UInt8.self)
                out[k] = d * Float(iq4nlGrid[Int(byte & 0xF)])
                out[k + 16] = d * Float(iq4nlGrid[Int(byte >> 4)])
            }
        }
    case .q2_K:
        for b in 0..<blocks { dequantizeQ2K(src + b * 84, dst + b * 256) }
    case .q3_K:
        for b in 0..<blocks { dequantizeQ3K(src + b * 110, dst + b * 256) }
    case .q5_K:
        for b in 0..<blocks { dequantizeQ5K(src + b * 176, dst + b * 256) }
    case .q4_K:
        for b in 0..<blocks { dequantizeQ4K(src + b * 144, dst + b * 256) }
    case .q6_K:
        for b in 0..<blocks { dequantizeQ6K(src + b * 210, dst + b * 256) }
    }
}

/// IQ4_NL's 16 levels (ggml kvalues_iq4nl).
private let iq4nlGrid: [Int8] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

/// Q4_K/Q5_K's 6-bit scale and min j of the 12 bytes at `scales` (ggml get_scale_min_k4).
private func kScaleMin(_ scales: UnsafePointer<UInt8>, _ j: Int) -> (Float, Float) {
    if j < 4 { return (Float(scales[j] & 63), Float(scales[j + 4] & 63)) }
    let sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4)
    let m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4)
    return (Float(sc), Float(m))
}

/// Q2_K: 16 groups of 16, each a 4-bit scale and 4-bit min; element 128n + 32j + l takes bits
/// 2j, 2j + 1 of qs[32n + l].
private func dequantizeQ2K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let scales = block.assumingMemoryBound(to: UInt8.self)
    let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 80, as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 82, as: UInt16.self))
    for e in 0..<256 {
        let n = e / 128, j = (e % 128) / 32, l = e % 32, sc = scales[e / 16]
        let q = (qs[32 * n + l] >> (2 * j)) & 3
        out[e] = d * Float(sc & 0xF) * Float(q) - dmin * Float(sc >> 4)
    }
}

/// Q3_K: 2-bit values in qs (as Q2_K), minus 4 unless the element's bit 4n + j of hmask[l] is
/// set, times 16 six-bit scales − 32 packed in 12 bytes.
private func dequantizeQ3K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let hmask = block.assumingMemoryBound(to: UInt8.self)
    let qs = (block + 32).assumingMemoryBound(to: UInt8.self)
    let s = (block + 96).assumingMemoryBound(to: UInt8.self)
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 108, as: UInt16.self))
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { scales in  // no heap: embedding lookups use this
        for t in 0..<16 {
            let group = t / 4, k = t % 4
            let byte = s[group & 1 == 1 ? 4 + k : k]
            let low = group < 2 ? Int(byte & 0xF) : Int(byte >> 4)
            scales[t] = (low | Int((s[8 + k] >> (2 * group)) & 3) << 4) - 32
        }
        for e in 0..<256 {
            let n = e / 128, j = (e % 128) / 32, l = e % 32
            let q = Int((qs[32 * n + l] >> (2 * j)) & 3) - ((hmask[l] >> (4 * n + j)) & 1 == 1 ? 0 : 4)
            out[e] = d * Float(scales[e / 16]) * Float(q)
        }
    }
}

/// Q5_K: Q4_K's layout plus qh: element 64g + l (+ 32) gets bit 2g (2g + 1) of qh[l] as its
/// fifth bit.
private func dequantizeQ5K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
    let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
    let qs = (block + 48).assumingMemoryBound(to: UInt8.self)
    for g in 0..<4 {
        let (sc0, m0) = kScaleMin(scales, 2 * g), (sc1, m1) = kScaleMin(scales, 2 * g + 1)
        let d0 = d * sc0, dm0 = dmin * m0, d1 = d * sc1, dm1 = dmin * m1
        for l in 0..<32 {
            let q = qs[32 * g + l], h = qh[l] >> (2 * g)
            out[64 * g + l] = d0 * Float((q & 0xF) | (h & 1) << 4) - dm0
            out[64 * g + 32 + l] = d1 * Float((q >> 4) | ((h >> 1) & 1) << 4) - dm1
        }
    }
}

/// Q4_K: 8 sub-blocks of 32 with 6-bit scale and min packed in 12 bytes (ggml get_scale_min_k4).
private func dequantizeQ4K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
    let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
    func scaleMin(_ j: Int) -> (Float, Float) { kScaleMin(scales, j) }
    for g in 0..<4 {
        let (sc0, m0) = scaleMin(2 * g), (sc1, m1) = scaleMin(2 * g + 1)
        let d0 = d * sc0, dm0 = dmin * m0, d1 = d * sc1, dm1 = dmin * m1
        for l in 0..<32 {
            let q = qs[32 * g + l]
            out[64 * g + l] = d0 * Float(q & 0xF) - dm0
            out[64 * g + 32 + l] = d1 * Float(q >> 4) - dm1
        }
    }
}

/// Q6_K: 6-bit values (low 4 bits in ql, top 2 in qh), minus 32, one int8 scale per 16.
private func dequantizeQ6K(_ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let ql = block.assumingMemoryBound(to: UInt8.self)
    let qh = (block + 128).assumingMemoryBound(to: UInt8.self)
    let scales = (block + 192).assumingMemoryBound(to: Int8.self)
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
    for h in 0..<2 {
        for l in 0..<32 {
            let lo0 = ql[64 * h + l], lo1 = ql[64 * h + l + 32], hi = qh[32 * h + l]
            let q0 = Int((lo0 & 0xF) | ((hi & 3) << 4)) - 32
            let q1 = Int((lo1 & 0xF) | (((hi >> 2) & 3) << 4)) - 32
            let q2 = Int((lo0 >> 4) | (((hi >> 4) & 3) << 4)) - 32
            let q3 = Int((lo1 >> 4) | (((hi >> 6) & 3) << 4)) - 32
            let e = 128 * h + l  // element of q0; q1, q2, q3 are 32, 64, 96 further
            out[e] = d * Float(scales[e / 16]) * Float(q0)
            out[e + 32] = d * Float(scales[(e + 32) / 16]) * Float(q1)
            out[e + 64] = d * Float(scales[(e + 64) / 16]) * Float(q2)
            out[e + 96] = d * Float(scales[(e + 96) / 16]) * Float(q3)
        }
    }
}

/// IEEE binary16 bits → Float (exact).
@inline(__always)
package func halfToFloat(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
}

/// bfloat16 bits → Float (exact: the top half of a binary32).
@inline(__always)
package func bfloat16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}
