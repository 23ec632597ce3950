import ArgumentParser
import Foundation
import TramFormats
import TramKernels
import TramModels

/// Times the matmul kernels on a GGUF model's own matrices, for every kernel variant the CPU
/// supports and 1..N threads, at one token (decode) and a batch of tokens (prefill / batched decode).
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Measure matmul throughput (GFLOP/s) on a GGUF model's matrices.")

    @Argument(help: "A .gguf file or alias (default: \(ModelResolver.defaultAlias)).")
    var model: String?

    @Option(help: "Tensors to time (default: layer 0's q, gate and down projections and the token embedding / LM head).")
    var tensor: [String] = ["blk.0.attn_q.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_down.weight", "token_embd.weight"]

    @Option(help: "Batch sizes (tokens) to time.")
    var tokens: [Int] = [1, 32]

    @Option(help: "Maximum thread count; every count from 1 up is timed.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seconds to spend per measurement.")
    var seconds = 0.5

    @Option(name: .customLong("random-type"), help: ArgumentHelp(
        "Also time random weights of this quantized type (q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K, q4_K, q5_K, q6_K) in each tensor's shape, columns rounded up to whole blocks.",
        discussion: "For kernels the model file does not use: the default model has no q4_K or q6_K matrices."))
    var randomType: [String] = []

    func run() throws {
        let file: GGUFFile
        do {
            file = try GGUFFile(path: ModelResolver.resolve(model) { print("  " + $0) }.path)
        } catch {
            throw ValidationError("\(error)")
        }
        let randomTypes = try randomType.map { name in
            guard let type = DataType.allCases.first(where: { "\($0)" == name }), type.isQuantized else {
                throw ValidationError("--random-type \(name): not a quantized type (q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K, q4_K, q5_K, q6_K)")
            }
            return type
        }
        print("CPU kernels: best \(KernelISA.best), supported \(KernelISA.supported.map(\.rawValue).joined(separator: ", "))")
        if !randomTypes.isEmpty { print("random: random weights in the tensor's shape (rows × columns rounded up to whole blocks)") }
        print(pad("tensor", 26) + pad("type", 6) + pad("isa/layout", 16) + pad("threads", 8) + tokens.map { pad("T=\($0)", 14, left: true) }.joined())
        for name in tensor {
            guard let info = file.tensor(named: name), info.dimensions.count == 2, let type = DataType(ggmlTypeID: info.type.id) else {
                throw ValidationError("no 2-D tensor '\(name)' of a supported type in \(file.path)")
            }
            time(WeightMatrix(type: type, rows: info.rows, columns: info.columns, data: file.data(for: info), owner: file), label: name)
            for type in randomTypes {
                let w = randomWeights(type, rows: info.rows, columns: info.columns)
                time(w, label: "random \(w.rows)×\(w.columns)")
            }
        }
    }

    /// Prints one line per kernel variant, layout and thread count: the file's layout, and the
    /// packed one the model loader uses for that ISA if there is one.
    func time(_ stored: WeightMatrix, label: String) {
        let isas = stored.type.isQuantized ? KernelISA.supported : [KernelISA.best]
        for isa in isas {
            let packed = stored.packedForKernels(isa: isa)
            for w in packed.packing == stored.packing ? [stored] : [stored, packed] {
                for threadCount in 1...max(1, threads) {
                    let context = KernelContext(threads: threadCount, isa: isa)
                    let layout = context.effectiveISA(for: w).rawValue + (w.packing == .x16 ? "/x16" : "")
                    var line = pad(label, 26) + pad("\(w.type)", 6) + pad(layout, 16) + pad("\(threadCount)", 8)
                    for t in tokens {
                        line += pad(String(format: "%.1f GF/s", measure(w, context: context, tokens: t)), 14, left: true)
                    }
                    print(line)
                }
            }
        }
    }

    /// A `rows` × `columns` (rounded up to whole blocks) matrix of random blocks whose f16 scale
    /// fields hold 0.01 (random bytes there could be NaN or subnormal, which may time differently).
    func randomWeights(_ type: DataType, rows: Int, columns: Int) -> WeightMatrix {
        let columns = (columns + type.blockElements - 1) / type.blockElements * type.blockElements
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<rows * type.rowBytes(columns: columns)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let scaleOffsets = type.scaleFieldOffsets
        let half = Float16(0.01).bitPattern
        for block in stride(from: 0, to: bytes.count, by: type.blockBytes) {
            for offset in scaleOffsets {
                bytes[block + offset] = UInt8(half & 0xFF)
                bytes[block + offset + 1] = UInt8(half >> 8)
            }
        }
        return bytes.withUnsafeBytes { WeightMatrix(type: type, rows: rows, columns: columns, copying: $0) }
    }

    func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(1, width - s.count))
        return left ? fill + s : s + fill
    }

    /// GFLOP/s (2·rows·columns·tokens per matmul) of the best of five timed rounds.
    func measure(_ w: WeightMatrix, context: KernelContext, tokens: Int) -> Double {
        var generator = SystemRandomNumberGenerator()
        let x = (0..<(tokens * w.columns)).map { _ in Float.random(in: -1...1, using: &generator) }
        var y = [Float](repeating: 0, count: tokens * w.rows)
        let flops = 2.0 * Double(w.rows * w.columns * tokens)
        let clock = ContinuousClock()
        return x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                for _ in 0..<3 { context.matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
                let probe = clock.measure { context.matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
                let perCall = max(1e-7, Double(probe.components.attoseconds) * 1e-18 + Double(probe.components.seconds))
                let iterations = max(3, Int(seconds / 5 / perCall))
                var best = Double.infinity
                for _ in 0..<5 {
                    let elapsed = clock.measure {
                        for _ in 0..<iterations { context.matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
                    }
                    best = min(best, (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) / Double(iterations))
                }
                return flops / best / 1e9
            }
        }
    }
}
