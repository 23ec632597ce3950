// swift-tools-version: 6.1
import PackageDescription

// Kernels are written with SIMD types that only lower to real vector instructions when the
// module is compiled for a CPU level (see DESIGN.md: ~30x slower without it). The quantized
// inner loops live in C with per-function target attributes and are picked at run time.
#if arch(x86_64)
let cpuLevel: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3", "-target-cpu", "haswell"])]
let cCPULevel: [CSetting] = [.unsafeFlags(["-O3", "-march=x86-64-v3"])]
#else
let cpuLevel: [SwiftSetting] = []
let cCPULevel: [CSetting] = [.unsafeFlags(["-O3"])]
#endif

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Tram",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tram", targets: ["tram"]),
        .library(name: "TramModels", targets: ["TramModels"]),
        .library(name: "TramTokenizer", targets: ["TramTokenizer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // Already in the graph through Hummingbird; named for NIO handlers and `tram bench serve`'s HTTP client.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CTramKernels", cSettings: cCPULevel),
        .target(
            name: "TramKernels",
            dependencies: ["CTramKernels"],
            swiftSettings: upcoming + cpuLevel + [.unsafeFlags(["-Ounchecked"])]
        ),
        .target(name: "TramFormats", swiftSettings: upcoming),
        // The seeded generator shared by sampling and the benchmark's datasets.
        .target(name: "TramRandom", swiftSettings: upcoming),
        // The order-preserving JSON reader of the tokenizer and the template engine.
        .target(name: "TramJSON", swiftSettings: upcoming),
        .target(name: "TramTokenizer", dependencies: ["TramJSON"], swiftSettings: upcoming),
        .target(name: "TramTemplate", dependencies: ["TramJSON"], swiftSettings: upcoming),
        .target(name: "TramChat", dependencies: ["TramTemplate"], swiftSettings: upcoming),
        // Structured outputs' grammar engine (no I/O): byte-level grammars from EBNF, regexes and
        // JSON schemas, matched over a token trie (work in progress: issue 15).
        .target(name: "TramGrammar", dependencies: ["TramTokenizer", "TramJSON"], swiftSettings: upcoming),
        // Tool calls out of a model's text (vLLM's tool parsers; no I/O).
        .target(name: "TramTools", dependencies: ["TramJSON"], swiftSettings: upcoming),
        // Request bodies (HTTP, `tram generate --input` lines) → engine requests: the input
        // processor's room.
        .target(name: "TramInput", dependencies: ["TramEngine", "TramModels", "TramChat", "TramTemplate", "TramTokenizer", "TramGrammar", "TramJSON", "TramTools"], swiftSettings: upcoming),
        .target(
            name: "TramServer",
            dependencies: [
                "TramEngine", "TramInput", "TramModels", "TramTokenizer", "TramChat", "TramGrammar", "TramTools",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "TramModels",
            dependencies: [
                "TramKernels", "TramFormats", "TramTokenizer",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming + cpuLevel
        ),
        .target(
            name: "TramEngine",
            dependencies: [
                "TramModels", "TramTokenizer", "TramKernels", "TramRandom", "TramJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "TramBench",
            dependencies: [
                "TramTokenizer", "TramRandom",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "tram",
            dependencies: [
                "TramBench", "TramServer", "TramEngine", "TramInput", "TramModels", "TramTokenizer", "TramChat", "TramFormats", "TramKernels", "TramRandom", "TramGrammar", "TramTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        // Replaces malloc in the test executable to count allocations (AllocationCounter).
        .target(name: "CTramAllocationCounter", path: "Tests/CTramAllocationCounter"),
        .target(
            name: "TramTestSupport", dependencies: ["TramModels", "TramKernels", "TramEngine", "TramFormats", "CTramAllocationCounter"],
            path: "Tests/TramTestSupport", swiftSettings: upcoming
        ),
        .testTarget(name: "TramKernelsTests", dependencies: ["TramKernels", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramFormatsTests", dependencies: ["TramFormats", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramEngineTests", dependencies: ["TramEngine", "TramModels", "TramKernels", "TramTokenizer", "TramRandom", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramTemplateTests", dependencies: ["TramTemplate", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "TramServerTests",
            dependencies: [
                "TramServer", "TramEngine", "TramInput", "TramChat", "TramModels", "TramTokenizer", "TramTestSupport", "TramGrammar", "TramTools",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "TramBenchTests",
            dependencies: [
                "TramBench", "TramServer", "TramEngine", "TramInput", "TramModels", "TramTokenizer", "TramTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(name: "TramToolsTests", dependencies: ["TramTools", "TramJSON", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramGrammarTests", dependencies: ["TramGrammar", "TramJSON", "TramModels", "TramTokenizer", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramChatTests", dependencies: ["TramChat", "TramTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TramTokenizerTests", dependencies: ["TramTokenizer", "TramJSON"], swiftSettings: upcoming),
        .testTarget(
            name: "TramModelsTests",
            dependencies: ["TramModels", "TramEngine", "TramKernels", "TramFormats", "TramTokenizer", "TramTestSupport"],
            swiftSettings: upcoming
        ),
    ]
)
