/// Reusable activation buffers of one forward pass, grown to the largest batch seen, so a
/// decode step allocates nothing. One per model instance; the architectures share its layout.
final class Workspace {
    private(set) var capacity = 0
    var x = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, hidden] residual stream
    var h = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, hidden] normed input / block output
    var q = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, heads·headDim]
    var k = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, kvHeads·headDim]
    var v = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, kvHeads·headDim]
    var attn = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, heads·headDim]
    var gate = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, ffn]
    var up = UnsafeMutablePointer<Float>.allocate(capacity: 0)  // [T, ffn]

    func reserve(tokens: Int, hidden: Int, qDim: Int, kvDim: Int, ffn: Int) {
        guard tokens > capacity else { return }
        release()
        let n = max(tokens, capacity * 2)
        x = .allocate(capacity: n * hidden)
        h = .allocate(capacity: n * hidden)
        q = .allocate(capacity: n * qDim)
        k = .allocate(capacity: n * kvDim)
        v = .allocate(capacity: n * kvDim)
        attn = .allocate(capacity: n * qDim)
        gate = .allocate(capacity: n * ffn)
        up = .allocate(capacity: n * ffn)
        capacity = n
    }

    private var scratch = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var scratchCapacity = 0

    /// At least `floats` floats of attention scratch (contents undefined), grown when needed.
    func attentionScratch(floats: Int) -> UnsafeMutablePointer<Float> {
        if floats > scratchCapacity {
            scratch.deallocate()
            scratch = .allocate(capacity: floats)
            scratchCapacity = floats
        }
        return scratch
    }

    private func release() {
        for p in [x, h, q, k, v, attn, gate, up] { p.deallocate() }
    }

    deinit {
        release()
        scratch.deallocate()
    }
}
