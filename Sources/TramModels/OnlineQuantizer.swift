import Foundation
import Logging
import TramFormats
import TramKernels

/// Quantizes a model's float linear weights to Q8_0 while it loads (`--quantization int8`), so a
/// checkpoint that ships only f32/f16/bf16 runs on the Q8_0 kernels.
///
/// It sits between the weight source and the architecture because the source hands out
/// memory-mapped tensors used in place, and a quantized copy needs storage of its own: each new
/// matrix owns an `AlignedBuffer`. The mapping is only read here, never written or unmapped; it
/// goes away when the last matrix that refers to it does (the embedding table keeps its file).
struct OnlineQuantizer {
    /// The model's file or directory, for errors.
    let path: String
    let threads: Int
    let logger: Logger
    /// How often a long quantization reports progress.
    var progressInterval: Duration = .seconds(2)

    /// The weights, in order, as Q8_0. Everything is checked before anything is quantized: an
    /// already-quantized weight throws `quantizationConflict`, a row length that is not a whole
    /// number of 32-value blocks `badTensor`, as does a NaN or infinity met while quantizing.
    func quantize(_ weights: [(name: TensorName, matrix: WeightMatrix)]) throws(ModelError) -> [WeightMatrix] {
        let quantizedTypes = Set(weights.map(\.matrix.type).filter(\.isQuantized))
        if !quantizedTypes.isEmpty {
            throw .quantizationConflict(path: path, requested: "int8", found: quantizedTypes.map { "\($0)" }.sorted())
        }
        if let bad = weights.first(where: { $0.matrix.columns % DataType.q8_0.blockElements != 0 }) {
            throw .format(.badTensor(path: path, tensor: bad.name.description,
                                     reason: "rows of \(bad.matrix.columns) values are not whole 32-value q8_0 blocks"))
        }
        let inputBytes = weights.reduce(0) { $0 + $1.matrix.rows * $1.matrix.rowBytes }
        let outputBytes = weights.reduce(0) { $0 + $1.matrix.rows * DataType.q8_0.rowBytes(columns: $1.matrix.columns) }
        let sourceTypes = Set(weights.map { "\($0.matrix.type)" }).sorted().joined(separator: "/")
        logger.info("quantizing \(weights.count) linear weights online: \(sourceTypes) \(Self.megabytes(inputBytes)) → q8_0 \(Self.megabytes(outputBytes)), \(threads) threads")

        let pool = ThreadPool(threadCount: threads)
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = start
        var out: [WeightMatrix] = []
        out.reserveCapacity(weights.count)
        for (i, weight) in weights.enumerated() {
            guard let q = weight.matrix.quantizedToQ8_0(pool: pool) else {
                throw .format(.badTensor(path: path, tensor: weight.name.description, reason: "holds NaN or infinite values, which q8_0 cannot encode"))
            }
            out.append(q)
            if clock.now - lastReport >= progressInterval {
                lastReport = clock.now
                logger.info("quantized \(i + 1)/\(weights.count) weights (\(Self.milliseconds(lastReport - start)) ms)")
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        logger.info("quantized \(weights.count) weights to q8_0 in \(Self.milliseconds(elapsed)) ms (\(String(format: "%.0f", Double(inputBytes) / 1e6 / max(seconds, 1e-9))) MB/s of \(sourceTypes))")
        return out
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    static func milliseconds(_ d: Duration) -> String {
        String(format: "%.0f", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15)
    }
}
