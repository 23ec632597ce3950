/// Cross-checks of what the server reported against what was asked, turned into warnings: a
/// benchmark whose prompts or outputs have other lengths than intended measures something
/// else, and should say so rather than print plausible numbers. Only successful requests count.
package enum ConsistencyCheck {
    package static func warnings(requests: [SampleRequest], outputs: [RequestOutput], api: APIKind, ignoreEOS: Bool) -> [String] {
        let pairs = zip(requests, outputs).enumerated().filter { $0.element.1.success }
        var warnings: [String] = []
        func warn(_ what: String, _ offenders: [(Int, String)], total: Int) {
            guard let example = offenders.first else { return }
            warnings.append("\(offenders.count) of \(total) requests \(what) (request \(example.0): \(example.1))")
        }
        let noUsage = pairs.filter { $0.element.1.outputTokens == nil }
        if !noUsage.isEmpty {
            warnings.append("\(noUsage.count) of \(pairs.count) requests ended without a usage chunk (stream_options.include_usage); their output tokens were counted by re-tokenizing the generated text")
        }
        if ignoreEOS {
            warn("generated another number of tokens than max_tokens although ignore_eos was sent",
                 pairs.compactMap { i, p in p.1.outputTokens.flatMap { $0 != p.0.expectedOutputLen ? (i, "\($0) of \(p.0.expectedOutputLen)") : nil } },
                 total: pairs.count)
        }
        warn("streamed more text chunks than the server counted tokens",
             pairs.compactMap { i, p in p.1.outputTokens.flatMap { p.1.textChunks > $0 ? (i, "\(p.1.textChunks) chunks, \($0) tokens") : nil } },
             total: pairs.count)
        if api == .completions {
            warn("were counted with another number of prompt tokens by the server than by the benchmark's tokenizer; is --tokenizer the server's model?",
                 pairs.compactMap { i, p in p.1.promptLen != p.0.promptLen ? (i, "server \(p.1.promptLen), expected \(p.0.promptLen)") : nil },
                 total: pairs.count)
        }
        return warnings
    }
}
