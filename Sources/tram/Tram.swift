import ArgumentParser

@main
struct Tram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tram",
        abstract: "Tram: an LLM serving engine for CPUs.",
        subcommands: [Generate.self, Bench.self]
    )
}
