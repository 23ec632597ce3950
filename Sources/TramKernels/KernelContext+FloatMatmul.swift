extension KernelContext {
    /// Float y = x · Wᵀ for f32/f16/bf16 weights, Swift SIMD16<Float> dot products.
    ///
    /// Every (row, token) pair has one SIMD16 accumulator walking the columns 16 at a time (a
    /// zero-padded last step for a ragged tail), then a fixed tree reduction, so the tile shape
    /// never changes a result. Tiles: 4 rows × 1 token (one token: 4 independent FMA chains), and
    /// 1 row × 4 tokens for batches (each converted weight vector feeds 4 tokens).
    func floatMatmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        switch w.type {
        case .f32: floatMatmul(F32Weights.self, w, x, tokens: tokens, y)
        case .f16: floatMatmul(F16Weights.self, w, x, tokens: tokens, y)
        case .bf16: floatMatmul(BF16Weights.self, w, x, tokens: tokens, y)
        default: preconditionFailure("\(w.type) is not a float type")
        }
    }

    private func floatMatmul<L: FloatWeights>(_: L.Type, _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>) {
        let chunk = rowChunk(rows: w.rows, align: 4, minimumRows: 8)
        pool.parallelFor((w.rows + chunk - 1) / chunk,
                         FloatRowChunks<L>(weights: w.data, weightStride: w.rowBytes, rows: w.rows, columns: w.columns,
                                           chunk: chunk, x: x, tokens: tokens, y: y))
    }
}

/// Output rows [c · chunk, (c + 1) · chunk) of a float matmul, for every token.
private struct FloatRowChunks<L: FloatWeights>: ParallelWork {
    let weights: UnsafeRawPointer
    let weightStride: Int
    let rows: Int
    let columns: Int
    let chunk: Int
    let x: UnsafePointer<Float>
    let tokens: Int
    let y: UnsafeMutablePointer<Float>

    func run(_ c: Int, thread _: Int) {
        let range = c * chunk..<min(rows, (c + 1) * chunk)
        let batched = tokens / 4 * 4
        if batched > 0 {
            for r in range {
                var t = 0
                while t < batched {
                    floatTile1x4(L.self, weights + r * weightStride, x + t * columns, columns: columns,
                                 y + t * rows + r, yStride: rows)
                    t += 4
                }
            }
        }
        for t in batched..<tokens {
            var r = range.lowerBound
            let xt = x + t * columns, yt = y + t * rows
            while range.upperBound - r >= 4 {
                floatTile4x1(L.self, weights + r * weightStride, weightStride: weightStride, xt, columns: columns, yt + r)
                r += 4
            }
            while r < range.upperBound {
                yt[r] = floatDot(L.self, weights + r * weightStride, xt, columns: columns)
                r += 1
            }
        }
    }
}

/// Loads 16 weights as floats from a row of some float encoding.
protocol FloatWeights {
    static func load(_ row: UnsafeRawPointer, _ column: Int) -> SIMD16<Float>
    static func scalar(_ row: UnsafeRawPointer, _ column: Int) -> Float
}

extension FloatWeights {
    /// Columns [column, column + count) and zeros after (count < 16).
    @inline(__always)
    static func loadPartial(_ row: UnsafeRawPointer, _ column: Int, _ count: Int) -> SIMD16<Float> {
        var v = SIMD16<Float>()
        for k in 0..<count { v[k] = scalar(row, column + k) }
        return v
    }
}

enum F32Weights: FloatWeights {
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, _ column: Int) -> SIMD16<Float> {
        row.loadUnaligned(fromByteOffset: 4 * column, as: SIMD16<Float>.self)
    }
    @inline(__always)
    static func scalar(_ row: UnsafeRawPointer, _ column: Int) -> Float {
        row.loadUnaligned(fromByteOffset: 4 * column, as: Float.self)
    }
}

enum F16Weights: FloatWeights {
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, _ column: Int) -> SIMD16<Float> {
        SIMD16<Float>(row.loadUnaligned(fromByteOffset: 2 * column, as: SIMD16<Float16>.self))
    }
    @inline(__always)
    static func scalar(_ row: UnsafeRawPointer, _ column: Int) -> Float {
        halfToFloat(row.loadUnaligned(fromByteOffset: 2 * column, as: UInt16.self))
    }
}

enum BF16Weights: FloatWeights {
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, _ column: Int) -> SIMD16<Float> {
        let bits = SIMD16<UInt32>(truncatingIfNeeded: row.loadUnaligned(fromByteOffset: 2 * column, as: SIMD16<UInt16>.self))
        return unsafeBitCast(bits &<< 16, to: SIMD16<Float>.self)
    }
    @inline(__always)
    static func scalar(_ row: UnsafeRawPointer, _ column: Int) -> Float {
        bfloat16ToFloat(row.loadUnaligned(fromByteOffset: 2 * column, as: UInt16.self))
    }
}

@inline(__always)
private func loadX(_ x: UnsafePointer<Float>, _ column: Int) -> SIMD16<Float> {
    UnsafeRawPointer(x + column).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func loadXPartial(_ x: UnsafePointer<Float>, _ column: Int, _ count: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for k in 0..<count { v[k] = x[column + k] }
    return v
}

/// Fixed-order tree sum of 16 lanes (part of every float dot product's definition).
@inline(__always)
func reduceSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// One (row, token) pair: the reference shape of the arithmetic every tile repeats per pair.
@inline(__always)
private func floatDot<L: FloatWeights>(_: L.Type, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int) -> Float {
    var acc = SIMD16<Float>()
    let full = columns & ~15
    var c = 0
    while c < full {
        acc.addProduct(L.load(w, c), loadX(x, c))
        c += 16
    }
    if full < columns { acc.addProduct(L.loadPartial(w, full, columns - full), loadXPartial(x, full, columns - full)) }
    return reduceSum(acc)
}

/// y[i] = dot(row i, x) for 4 consecutive rows.
@inline(__always)
private func floatTile4x1<L: FloatWeights>(_: L.Type, _ w: UnsafeRawPointer, weightStride: Int, _ x: UnsafePointer<Float>, columns: Int, _ y: UnsafeMutablePointer<Float>) {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    let w0 = w, w1 = w + weightStride, w2 = w + 2 * weightStride, w3 = w + 3 * weightStride
    let full = columns & ~15
    var c = 0
    while c < full {
        let xv = loadX(x, c)
        a0.addProduct(L.load(w0, c), xv)
        a1.addProduct(L.load(w1, c), xv)
        a2.addProduct(L.load(w2, c), xv)
        a3.addProduct(L.load(w3, c), xv)
        c += 16
    }
    if full < columns {
        let n = columns - full, xv = loadXPartial(x, full, n)
        a0.addProduct(L.loadPartial(w0, full, n), xv)
        a1.addProduct(L.loadPartial(w1, full, n), xv)
        a2.addProduct(L.loadPartial(w2, full, n), xv)
        a3.addProduct(L.loadPartial(w3, full, n), xv)
    }
    y[0] = reduceSum(a0)
    y[1] = reduceSum(a1)
    y[2] = reduceSum(a2)
    y[3] = reduceSum(a3)
}

/// y[t·yStride] = dot(row, x[t]) for 4 consecutive tokens (x rows `columns` apart).
@inline(__always)
private func floatTile1x4<L: FloatWeights>(_: L.Type, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int) {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    let x0 = x, x1 = x + columns, x2 = x + 2 * columns, x3 = x + 3 * columns
    let full = columns & ~15
    var c = 0
    while c < full {
        let wv = L.load(w, c)
        a0.addProduct(wv, loadX(x0, c))
        a1.addProduct(wv, loadX(x1, c))
        a2.addProduct(wv, loadX(x2, c))
        a3.addProduct(wv, loadX(x3, c))
        c += 16
    }
    if full < columns {
        let n = columns - full, wv = L.loadPartial(w, full, n)
        a0.addProduct(wv, loadXPartial(x0, full, n))
        a1.addProduct(wv, loadXPartial(x1, full, n))
        a2.addProduct(wv, loadXPartial(x2, full, n))
        a3.addProduct(wv, loadXPartial(x3, full, n))
    }
    y[0] = reduceSum(a0)
    y[yStride] = reduceSum(a1)
    y[2 * yStride] = reduceSum(a2)
    y[3 * yStride] = reduceSum(a3)
}
