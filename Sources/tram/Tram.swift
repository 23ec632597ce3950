import ArgumentParser

@main
struct Tram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tram",
        abstract: "Tram: an LLM serving engine for CPUs.",
        subcommands: [Serve.self, Generate.self, Bench.self, Download.self]
    )
}
