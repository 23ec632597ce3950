import Foundation
public import TramModels

/// How much RAM the paged KV cache gets and what that buys: blocks, and tokens cached at once.
///
/// Each block holds `blockSize` tokens of K and V for every layer:
/// `bytesPerBlock = blockSize × numLayers × 2 × numKVHeads × headDim × (4 for f32, 2 for f16)`.
///
/// Sliding-window layers (Gemma 3's local layers) are charged like the others: a request has one
/// block table for all layers, and its global layers need every block, so no block can be
/// released when it leaves a window. The sizing is therefore exact, not optimistic — a Gemma 3
/// sequence really does occupy `numLayers` layers per token — and the saving a per-layer-kind
/// pool would bring is left on the table (see `Gemma3Model`, and ARCHITECTURE.md's hybrid KV cache).
public struct KVCacheSizing: Sendable, Equatable {
    public let blockSize: Int
    public let dtype: KVCacheDType
    public let numBlocks: Int
    public let bytesPerBlock: Int

    public var bytes: Int { numBlocks * bytesPerBlock }
    /// Tokens the cache holds across all sequences.
    public var maxCachedTokens: Int { numBlocks * blockSize }

    /// - Parameters:
    ///   - memoryBytes: RAM for K and V together (nil: a default from the machine's available memory).
    ///   - maxModelLength: the longest sequence to serve; start-up fails when not even one fits.
    ///   - dtype: the cache's element type (nil: the model's `defaultKVCacheDType`).
    ///   - draft: a speculative draft model, whose cache shares the target's block tables: each
    ///     block then also holds the draft's K and V for its tokens, within the same memory.
    public init(model: any CausalLM, blockSize: Int, memoryBytes: Int?, maxModelLength: Int, dtype: KVCacheDType? = nil,
                draft: (any CausalLM)? = nil) throws(EngineError) {
        guard (1...256).contains(blockSize) else { throw .invalidConfiguration("--block-size must be between 1 and 256, got \(blockSize)") }
        self.blockSize = blockSize
        let dtype = dtype ?? model.defaultKVCacheDType
        self.dtype = dtype
        let draftBytes = draft.map { KVCache.bytesPerToken(numLayers: $0.numLayers, numKVHeads: $0.numKVHeads, headDim: $0.headDim, dtype: dtype) } ?? 0
        bytesPerBlock = blockSize * (KVCache.bytesPerToken(numLayers: model.numLayers, numKVHeads: model.numKVHeads, headDim: model.headDim, dtype: dtype) + draftBytes)
        let memory = memoryBytes ?? KVCacheSizing.defaultMemory(maxModelLength: maxModelLength, bytesPerBlock: bytesPerBlock, blockSize: blockSize)
        guard memory > 0 else { throw .invalidConfiguration("--kv-cache-memory must be positive") }
        numBlocks = memory / bytesPerBlock
        let needed = (maxModelLength + blockSize - 1) / blockSize
        guard numBlocks >= needed else {
            throw .invalidConfiguration("""
                the KV cache (\(KVCacheSizing.format(bytes: memory)), \(numBlocks) blocks of \(blockSize) tokens) cannot hold one \
                sequence of --max-model-len \(maxModelLength) tokens (\(needed) blocks, \(KVCacheSizing.format(bytes: needed * bytesPerBlock))); \
                raise --kv-cache-memory or lower --max-model-len
                """)
        }
    }

    /// A quarter of the available memory, capped at what 16 full-length sequences need and at
    /// 4 GiB (vLLM's default CPU KV space), and never less than one full-length sequence.
    static func defaultMemory(maxModelLength: Int, bytesPerBlock: Int, blockSize: Int) -> Int {
        let oneSequence = (maxModelLength + blockSize - 1) / blockSize * bytesPerBlock
        let available = availableMemory() ?? (4 << 30)
        return max(oneSequence, min(available / 4, 16 * oneSequence, 4 << 30))
    }

    /// MemAvailable from /proc/meminfo on Linux; physical memory elsewhere.
    static func availableMemory() -> Int? {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
            }
        }
        return Int(exactly: ProcessInfo.processInfo.physicalMemory)
    }

    /// Parses sizes as vLLM users write them: `2GiB`, `512MiB`, `1.5GB`, `800M`, `1073741824`.
    public static func parse(bytes text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [
            ("KiB", 0x1p10), ("MiB", 0x1p20), ("GiB", 0x1p30), ("TiB", 0x1p40),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
            ("K", 0x1p10), ("M", 0x1p20), ("G", 0x1p30), ("T", 0x1p40), ("B", 1),
        ]
        for (suffix, scale) in units where s.uppercased().hasSuffix(suffix.uppercased()) {
            let number = s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let v = Double(number), v.isFinite, v >= 0, v * scale < 9e18 else { return nil }
            return Int(v * scale)
        }
        guard let v = Int(s), v >= 0 else { return nil }
        return v
    }

    public static func format(bytes: Int) -> String {
        let b = Double(bytes)
        if b >= Double(1 << 30) { return String(format: "%.2f GiB", b / Double(1 << 30)) }
        if b >= Double(1 << 20) { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        return "\(bytes) B"
    }
}
