import CTramKernels
import Foundation

/// Which instruction-set variant of the quantized integer kernels runs.
///
/// Chosen once at start-up from the CPU's features; `TRAM_KERNEL_ISA=scalar|avx2|avx512vnni`
/// overrides it (a request above what the CPU supports falls back to the best it does).
/// Float kernels are Swift SIMD compiled for the package's CPU level and do not depend on it.
public enum KernelISA: String, Sendable, CaseIterable, Comparable {
    case scalar
    case avx2
    case avx512vnni

    /// The best variant this CPU supports.
    public static let best: KernelISA = KernelISA(cValue: ctram_best_isa())

    /// The variant new `KernelContext`s use: `best`, or `TRAM_KERNEL_ISA` if set and valid.
    public static let selected: KernelISA = {
        guard let name = ProcessInfo.processInfo.environment["TRAM_KERNEL_ISA"],
              let requested = KernelISA(rawValue: name.lowercased())
        else { return best }
        return min(requested, best)
    }()

    /// What start-up logs print: the variant in use, and why (forced, or the CPU's best).
    public static var selectionDescription: String {
        guard let forced = ProcessInfo.processInfo.environment["TRAM_KERNEL_ISA"], !forced.isEmpty else { return "\(best.rawValue) (the CPU's best)" }
        guard let requested = KernelISA(rawValue: forced.lowercased()) else {
            return "\(selected.rawValue) (TRAM_KERNEL_ISA=\(forced) names no variant: the CPU's best)"
        }
        if requested > best { return "\(selected.rawValue) (TRAM_KERNEL_ISA=\(forced) is beyond this CPU: its best)" }
        return "\(selected.rawValue) (TRAM_KERNEL_ISA; the CPU's best is \(best.rawValue))"
    }

    /// Variants this CPU can run (for tests that cover each).
    package static var supported: [KernelISA] { allCases.filter { $0 <= best } }

    var cValue: Int32 {
        switch self {
        case .scalar: Int32(CTRAM_ISA_SCALAR)
        case .avx2: Int32(CTRAM_ISA_AVX2)
        case .avx512vnni: Int32(CTRAM_ISA_AVX512VNNI)
        }
    }

    init(cValue: Int32) {
        switch cValue {
        case Int32(CTRAM_ISA_AVX512VNNI): self = .avx512vnni
        case Int32(CTRAM_ISA_AVX2): self = .avx2
        default: self = .scalar
        }
    }

    private var rank: Int {
        switch self {
        case .scalar: 0
        case .avx2: 1
        case .avx512vnni: 2
        }
    }

    public static func < (lhs: KernelISA, rhs: KernelISA) -> Bool { lhs.rank < rhs.rank }
}
