import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks.",
        subcommands: [BenchThroughput.self, BenchServe.self, BenchKernels.self, BenchVerify.self, BenchStructured.self]
    )
}
