import Foundation
import Testing
import TramKernels

/// Micro-benchmark, skipped unless TRAM_KERNEL_BENCH is set; prints GFLOP/s (2·rows·columns·tokens
/// per second) and asserts nothing about time.
///   TRAM_KERNEL_BENCH=1 swift test -c release --filter KernelBenchmarks
@Test(.enabled(if: ProcessInfo.processInfo.environment["TRAM_KERNEL_BENCH"] != nil))
func kernelBenchmarks() {
    let shapes: [(String, DataType, Int, Int)] = [
        ("ffn_down 576x1536", .q4_1, 576, 1536),
        ("ffn_down 576x1536", .q4_0, 576, 1536),
        ("ffn_down 576x1536", .q8_0, 576, 1536),
        ("lm_head 49152x576", .q8_0, 49152, 576),
        ("ffn_down 576x1536", .q4_K, 576, 1536),
        ("ffn_down 576x1536", .q6_K, 576, 1536),
        ("ffn_down 576x1536", .f32, 576, 1536),
        ("ffn_down 576x1536", .f16, 576, 1536),
        ("ffn_down 576x1536", .bf16, 576, 1536),
    ]
    for (name, type, rows, columns) in shapes {
        let w = makeWeights(type, rows: rows, columns: columns, seed: 1)
        let isas = type.isQuantized ? KernelISA.supported : [KernelISA.best]
        for isa in isas {
            for threads in [1, 2] {
                let context = KernelContext(threads: threads, isa: isa)
                var line = "\(name) \(type) \(context.effectiveISA(for: type)) threads=\(threads):"
                for tokens in [1, 32] {
                    let x = makeActivations(count: tokens * columns, seed: 2)
                    var y = [Float](repeating: 0, count: tokens * rows)
                    let flops = 2.0 * Double(rows * columns * tokens)
                    let iterations = max(3, Int(2e9 / flops))
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            for _ in 0..<3 { context.matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
                            var best = Double.infinity
                            for _ in 0..<5 {
                                let start = DispatchTime.now().uptimeNanoseconds
                                for _ in 0..<iterations { context.matmul(w, xp.baseAddress!, tokens: tokens, yp.baseAddress!) }
                                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
                            }
                            line += String(format: "  T=%d %.1f GFLOP/s (%.1f µs)", tokens, flops / best, best / 1000)
                        }
                    }
                }
                print(line)
            }
        }
    }
    let pool = ThreadPool(threadCount: 2)
    for _ in 0..<1000 { pool.parallelFor(2) { _ in } }
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<100_000 { pool.parallelFor(2) { _ in } }
    print(String(format: "parallelFor(2) empty: %.2f µs/call", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e8))
}
