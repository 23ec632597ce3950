import ArgumentParser
import Foundation
import TramBench
import TramModels
import TramTokenizer

/// Online serving benchmark, with the flags, definitions and report of vLLM's
/// `vllm bench serve`, against any OpenAI-compatible server (Tram, vLLM, llama-server).
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load an OpenAI-compatible server with streamed requests and report TTFT, TPOT, ITL and throughput, as vllm bench serve does.")

    @Option(help: "The server's base URL; --endpoint is appended to it.")
    var baseUrl = "http://127.0.0.1:8000"

    @Option(help: "API path: /v1/completions or /v1/chat/completions.")
    var endpoint = "/v1/completions"

    @Option(help: "openai (completions API) or openai-chat (chat API); default: from --endpoint.")
    var backend: String?

    @Option(help: "Model name to request (default: the first model of GET /v1/models).")
    var model: String?

    @Option(help: "Model (.gguf, directory or alias) whose tokenizer builds the prompts (default: --model when it names one, else the server's model path when it is local, else \(ModelResolver.defaultAlias)).")
    var tokenizer: String?

    @Option(help: "Dataset: random (random-token prompts) or custom (the prompts of --dataset-path).")
    var datasetName = "random"

    @Option(help: "The custom dataset: JSON Lines, one {\"prompt\": …} per line, used in order and again from the first (e.g. scripts/bench/datasets/code-edit.jsonl).")
    var datasetPath: String?

    @Option(help: "max_tokens of each custom-dataset request (with --no-ignore-eos a ceiling: the model stops where its answer ends).")
    var customOutputLen = 256

    @Option(help: "Number of prompts to send.")
    var numPrompts = 1000

    @Option(name: [.customLong("random-input-len"), .customLong("input-len")], help: "Tokens per prompt, as the server counts them (--random-prefix-len comes on top).")
    var randomInputLen = 1024

    @Option(name: [.customLong("random-output-len"), .customLong("output-len")], help: "Tokens to generate per request (max_tokens).")
    var randomOutputLen = 128

    @Option(help: "Random tokens shared by every prompt, before its own.")
    var randomPrefixLen = 0

    @Option(help: "Input and output lengths are drawn from [len·(1−r), len·(1+r)]; r in [0, 1).")
    var randomRangeRatio = 0.0

    @Option(help: "Requests per second; inf sends all at once.")
    var requestRate = Double.infinity

    @Option(help: "Gamma shape of the gaps between requests: 1 is a Poisson process, below 1 burstier, above 1 more even.")
    var burstiness = 1.0

    @Option(help: "Requests in flight at most (default: no limit).")
    var maxConcurrency: Int?

    @Option(help: "Seed of the prompts and arrival times.")
    var seed: UInt64 = 0

    @Option(name: [.customLong("num-warmups"), .customLong("warmup")], help: "Requests sent before the measurement, not counted.")
    var numWarmups = 0

    @Flag(inversion: .prefixedNo, help: "Send ignore_eos so every request generates exactly its output length.")
    var ignoreEos = true

    @Option(help: "Sampling temperature sent with every request.")
    var temperature = 0.0

    @Option(help: "Metrics with percentile sections, comma-separated: ttft, tpot, itl, e2el.")
    var percentileMetrics = "ttft,tpot,itl,e2el"

    @Option(help: "Percentiles to report, comma-separated, e.g. 50,90,99.")
    var metricPercentiles = "99"

    @Option(help: "Bearer token for the server (default: $OPENAI_API_KEY).")
    var apiKey: String?

    @Flag(help: "Save the results as JSON (to --result-filename, the FILE after this flag, or a name like vLLM's).")
    var saveResult = false

    @Argument(help: ArgumentHelp("Result file, as in `--save-result FILE.json`.", valueName: "FILE.json"))
    var resultFile: String?

    @Option(help: "Result JSON file name (implies --save-result).")
    var resultFilename: String?

    @Option(help: "Directory for the result file.")
    var resultDir: String?

    @Flag(help: "Also save each request's generated text and start time.")
    var saveDetailed = false

    @Option(help: "Label of the results (default: the backend).")
    var label: String?

    @Flag(help: "No progress bar.")
    var disableTqdm = false

    var api: APIKind {
        switch backend {
        case "openai-chat": .chat
        case "openai", "vllm": .completions
        default: endpoint.hasSuffix("chat/completions") ? .chat : .completions
        }
    }

    func validate() throws {
        guard ["random", "custom"].contains(datasetName) else { throw ValidationError("--dataset-name must be random or custom, got '\(datasetName)'") }
        guard (datasetName == "custom") == (datasetPath != nil) else { throw ValidationError("--dataset-path goes with --dataset-name custom, and custom needs it") }
        guard customOutputLen >= 1 else { throw ValidationError("--custom-output-len must be at least 1") }
        if let backend, !["openai", "vllm", "openai-chat"].contains(backend) {
            throw ValidationError("--backend must be openai, vllm or openai-chat, got '\(backend)'")
        }
        guard numPrompts >= 1 else { throw ValidationError("--num-prompts must be at least 1") }
        guard numWarmups >= 0 else { throw ValidationError("--num-warmups must not be negative") }
        guard requestRate > 0 else { throw ValidationError("--request-rate must be positive (or inf)") }
        guard burstiness > 0 else { throw ValidationError("--burstiness must be positive") }
        if let maxConcurrency, maxConcurrency <= 0 { throw ValidationError("--max-concurrency must be greater than 0") }
        guard (0..<1).contains(randomRangeRatio) else { throw ValidationError("--random-range-ratio must be in [0, 1)") }
        guard randomOutputLen >= 1, randomInputLen >= 0, randomPrefixLen >= 0 else {
            throw ValidationError("--random-output-len must be at least 1; --random-input-len and --random-prefix-len not negative")
        }
        let known = BenchmarkReport.percentileMetricNames.map(\.0)
        for name in metricNames where !known.contains(name) {
            throw ValidationError("--percentile-metrics: unknown metric '\(name)' (known: \(known.joined(separator: ", ")))")
        }
        guard let ps = percentiles, ps.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
            throw ValidationError("--metric-percentiles: give numbers in (0, 100] separated by commas, got '\(metricPercentiles)'")
        }
        if resultFile != nil, !saveResult { throw ValidationError("unexpected argument '\(resultFile!)' (a result file goes after --save-result)") }
        _ = try ServerAddress(baseURL: baseUrl)
    }

    var metricNames: [String] { percentileMetrics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    var percentiles: [Double]? {
        let values = metricPercentiles.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(nil) || values.isEmpty ? nil : values.compactMap { $0 }
    }

    func run() async throws {
        let address = try ServerAddress(baseURL: baseUrl)
        let client = HTTPClient(address: address, apiKey: apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"])
        var root: String?
        let modelName: String
        if let model {
            modelName = model
        } else {
            print("Model not specified, fetching first model from server...")
            let first = try await client.firstModel()
            (modelName, root) = (first.id, first.root)
            print("First model: \(modelName)")
        }

        let tokenizerID = tokenizerArgument(model: modelName, root: root)
        let tokenizer = try loadTokenizer(tokenizerID)
        let all: [SampleRequest]
        if let datasetPath {
            all = try CustomDataset(path: datasetPath, outputLen: customOutputLen).sample(count: numPrompts + numWarmups, tokenizer: tokenizer)
        } else {
            let dataset = RandomDataset(inputLen: randomInputLen, outputLen: randomOutputLen, prefixLen: randomPrefixLen,
                                        rangeRatio: randomRangeRatio, seed: seed)
            all = try dataset.sample(count: numPrompts + numWarmups, tokenizer: tokenizer)
        }
        let requests = Array(all.prefix(numPrompts))
        let warmups = Array(all.dropFirst(numPrompts))
        print("#Input tokens: \(requests.reduce(0) { $0 + $1.promptLen })")
        print("#Output tokens: \(requests.reduce(0) { $0 + $1.expectedOutputLen })")

        let sender = RequestSender(client: client, endpoint: endpoint, api: api, model: modelName, ignoreEOS: ignoreEos, temperature: temperature)
        let runner = BenchmarkRunner(sender: sender, requestRate: requestRate, burstiness: burstiness, maxConcurrency: maxConcurrency, seed: seed)
        if !warmups.isEmpty {
            print("Warming up with \(warmups.count) requests...")
            let failed = await runner.warmUp(warmups)
            print("Warmup run completed\(failed > 0 ? " (\(failed) failed)" : "").")
        }
        print("Starting main benchmark run...")
        print("Traffic request rate: \(requestRate.isFinite ? String(requestRate) : "inf")")
        print("Burstiness factor: \(burstiness) (\(burstiness == 1 ? "Poisson process" : "Gamma distribution"))")
        print("Maximum request concurrency: \(maxConcurrency.map(String.init) ?? "None")")
        fflush(nil)  // the table and the progress bar go to different streams
        var bar = disableTqdm ? nil : ProgressBar(total: requests.count)
        let run = await runner.run(requests) { bar?.update($0) }

        let metrics = BenchmarkMetrics(outputs: run.outputs, duration: run.duration) { tokenizer.encode($0, addSpecialTokens: false).count }
        let failures = run.outputs.filter { !$0.success }
        if !failures.isEmpty {
            print("Failed requests during benchmark run detected (capping to 10):")
            for (i, failure) in failures.prefix(10).enumerated() { print("Error \(i): \(failure.error)") }
        }
        for warning in ConsistencyCheck.warnings(requests: requests, outputs: run.outputs, api: api, ignoreEOS: ignoreEos) {
            FileHandle.standardError.write(Data("WARNING: \(warning)\n".utf8))
        }
        let settings = BenchmarkReport.Settings(
            backend: backend ?? (api == .chat ? "openai-chat" : "openai"), label: label, modelID: modelName, tokenizerID: tokenizerID,
            numPrompts: numPrompts, requestRate: requestRate, burstiness: burstiness, maxConcurrency: maxConcurrency,
            percentileMetrics: metricNames, metricPercentiles: percentiles ?? [99])
        let report = BenchmarkReport(settings: settings, metrics: metrics, run: run)
        print(report.table)

        if saveResult || resultFilename != nil {
            var path = resultFilename ?? resultFile ?? report.defaultFileName()
            if let resultDir {
                try FileManager.default.createDirectory(atPath: resultDir, withIntermediateDirectories: true)
                path = URL(fileURLWithPath: resultDir).appendingPathComponent(path).path
            }
            try report.save(to: path, detailed: saveDetailed)
            print("Results saved to \(path)")
        }
        if metrics.completed == 0 {
            FileHandle.standardError.write(Data("All requests failed. This is likely due to a misconfiguration of the benchmark arguments.\n".utf8))
            throw ExitCode.failure
        }
    }

    /// vLLM's rule, with Tram's model names: `--tokenizer`, else the model when it names a local
    /// model or an alias (llama-server reports its .gguf path as the model id), else the
    /// server's `root` when that is a local path (Tram reports the model's path there), else
    /// the default alias.
    func tokenizerArgument(model: String, root: String?) -> String {
        if let tokenizer { return tokenizer }
        if FileManager.default.fileExists(atPath: model) || ModelResolver.aliases[model.lowercased()] != nil { return model }
        if let root, FileManager.default.fileExists(atPath: root) { return root }
        return ModelResolver.defaultAlias
    }

    func loadTokenizer(_ argument: String) throws -> Tokenizer {
        do {
            let resolved = try ModelResolver.resolve(argument) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            print("Tokenizer: \(resolved.path)")
            return try ModelLoader.loadTokenizer(path: resolved.path)
        } catch {
            throw ValidationError("--tokenizer: \(error)")
        }
    }
}
