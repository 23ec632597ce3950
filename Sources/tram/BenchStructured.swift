import ArgumentParser
import Foundation
import TramGrammar
import TramModels
import TramTokenizer

/// Constrained decoding's cost without a model: JSON schemas compiled and their valid instances
/// walked token by token, timing the next-token mask before every token, beside xgrammar's and
/// llguidance's times on the same schemas and tokens (`scripts/bench/structured/peers.py`
/// writes them). One thread; a fresh compile per instance for every engine.
struct BenchStructured: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "structured",
        abstract: "Time JSON-schema compilation and token masks against xgrammar and llguidance.")

    @Option(help: "The peers' results (scripts/bench/structured/peers.py): schemas, token walks, their times.")
    var peers: String

    @Option(help: "The model whose tokenizer the walks use (the peers used Qwen2.5's).")
    var model = "qwen2.5-coder-0.5b-instruct"

    @Option(help: "The logits width (Qwen2.5: 151936).")
    var vocabularySize = 151936

    @Option(help: "The stop token of the walks (Qwen2.5's <|im_end|>).")
    var stopToken = 151645

    @Option(help: "Write one JSON line per instance with Tram's times here.")
    var results: String?

    @Option(help: "Write the report as the \"Structured outputs\" section of this file (BENCHMARKS.md), replacing the previous one.")
    var benchmarks: String?

    struct EngineRecord: Codable {
        var compile_ms: Double?
        var mask_us: [Double]
        var status: String
    }

    struct Record: Codable {
        var source: String
        var schema: String
        var text: String
        var tokens: [Int]
        var xgrammar: EngineRecord
        var llguidance: EngineRecord
        var tram: EngineRecord?
    }

    func run() throws {
        let path = try ModelResolver.resolve(model) { print("  " + $0) }.path
        let tokenizer = try ModelLoader.loadTokenizer(path: path)
        let vocabulary = TokenVocabulary(tokenizer: tokenizer, size: vocabularySize, stopTokens: [stopToken])
        let lines = try String(contentsOfFile: peers, encoding: .utf8).split(separator: "\n")
        var records: [Record] = []
        let clock = ContinuousClock()
        var totals = CompiledGrammar.Statistics()
        for line in lines {
            var record = try JSONDecoder().decode(Record.self, from: Data(line.utf8))
            var tram = EngineRecord(compile_ms: nil, mask_us: [], status: "ok")
            do {
                var compiled: CompiledGrammar?
                let elapsed = try clock.measure {
                    compiled = try CompiledGrammar(JSONSchemaCompiler.compile(record.schema), vocabulary: vocabulary)
                }
                tram.compile_ms = seconds(elapsed) * 1e3
                var matcher = GrammarMatcher(grammar: compiled!)
                for token in record.tokens {
                    var mask: [UInt32] = []
                    let t = clock.measure { mask = matcher.nextTokenMask() }
                    tram.mask_us.append(seconds(t) * 1e6)
                    guard mask[token >> 5] & (1 << UInt32(token & 31)) != 0, matcher.accept(token) else {
                        tram.status = "token refused"
                        break
                    }
                }
                let st = compiled!.statistics
                totals.states += st.states
                totals.maskComputations += st.maskComputations
                totals.localWalks += st.localWalks
                totals.sharedHits += st.sharedHits
                totals.localNodes += st.localNodes
                totals.realNodes += st.realNodes
            } catch {
                tram.status = "compile error: \(error)"
            }
            record.tram = tram
            records.append(record)
        }
        if let results {
            let encoder = JSONEncoder()
            let text = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
            try text.write(toFile: results, atomically: true, encoding: .utf8)
        }
        var report: [String] = []
        func out(_ line: String) {
            print(line)
            report.append(line)
        }
        out("\(records.count) instances of \(Set(records.map(\.schema)).count) schemas; \(tokenizer.vocabularySize)-token vocabulary (\(vocabulary.trieNodeCount) trie nodes); one thread")
        out("engine       compiled  walked   compile ms mean/p50/p99     masks   mask µs mean   p50      p99      max")
        for (name, pick) in [("tram", { (r: Record) in r.tram! }), ("xgrammar", { $0.xgrammar }), ("llguidance", { $0.llguidance })] as [(String, (Record) -> EngineRecord)] {
            let engine = records.map(pick)
            let compiled = engine.filter { $0.compile_ms != nil && !$0.status.hasPrefix("compile error") }
            let walked = engine.filter { $0.status == "ok" }
            let compile = compiled.compactMap(\.compile_ms).sorted()
            let masks = engine.flatMap(\.mask_us).sorted()
            func q(_ v: [Double], _ p: Double) -> Double { v.isEmpty ? .nan : v[min(v.count - 1, Int(Double(v.count) * p))] }
            let mean = masks.isEmpty ? Double.nan : masks.reduce(0, +) / Double(masks.count)
            let compileMean = compile.isEmpty ? Double.nan : compile.reduce(0, +) / Double(compile.count)
            out(name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %8d %7d   %7.2f / %6.2f / %8.2f   %7d   %9.1f %8.1f %8.1f %8.0f",
                         compiled.count, walked.count, compileMean, q(compile, 0.5), q(compile, 0.99),
                         masks.count, mean, q(masks, 0.5), q(masks, 0.99), masks.last ?? .nan))
        }
        out("tram: \(totals.states) states, \(totals.maskComputations) masks computed: \(totals.localWalks) local walks (\(totals.localNodes) trie nodes), \(totals.sharedHits) local masks shared across grammars, \(totals.realNodes) trie nodes walked from real states")
        let refusals = records.filter { $0.tram!.status != "ok" && $0.xgrammar.status == "ok" }
        for r in refusals.prefix(10) { print("  tram \(r.tram!.status) where xgrammar walked: \(r.source)") }
        if refusals.count > 10 { print("  … \(refusals.count - 10) more") }
        if let benchmarks { try Self.writeSection(report, refusals: refusals.count, total: records.count, to: benchmarks) }
    }

    static let begin = "<!-- structured:begin -->"
    static let end = "<!-- structured:end -->"

    static func writeSection(_ report: [String], refusals: Int, total: Int, to path: String) throws {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let date = ISO8601DateFormatter().string(from: Date())
        let section = [
            begin, "## Structured outputs", "",
            "Written by `tram bench structured --peers … --benchmarks BENCHMARKS.md` on \(date): CPU \(cpu), \(cores) cores (the grammar engine is scalar Swift; no kernel ISA involved), one thread per engine, nothing else running. Schemas: the MaskBench sample `scripts/bench/structured/maskbench_sample.jsonl` (guidance-ai/jsonschemabench, each line names its file and commit); each valid instance as `json.dumps` text in Qwen2.5's tokens, every engine compiling the schema fresh and computing the next-token mask before every token (xgrammar 0.2.9 and llguidance 1.9.1 through `scripts/bench/structured/peers.py`, run just before). \"compiled\": instances whose schema the engine compiled; \"walked\": instances whose every token it accepted. Tram refused \(refusals) of \(total) instances xgrammar walked (unsupported keywords, listed by the command).",
            "", "```",
        ] + report + ["```", end]
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if let a = text.range(of: begin), let b = text.range(of: end) {
            text.replaceSubrange(a.lowerBound..<b.upperBound, with: section.joined(separator: "\n"))
        } else {
            text += (text.hasSuffix("\n") ? "\n" : "\n\n") + section.joined(separator: "\n") + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
