import TramJSON

/// `--speculative-config`, with vLLM's keys: prompt lookup, or a smaller model of the same
/// vocabulary drafting greedily (`"model"`, a path or alias; `"method": "draft_model"` may be
/// given or left out, as vLLM infers it).
///
///     {"method": "ngram", "num_speculative_tokens": 5, "prompt_lookup_max": 4, "prompt_lookup_min": 2}
///     {"model": "qwen2.5-coder-0.5b-instruct", "num_speculative_tokens": 4}
///
/// The draft model itself is loaded by whoever builds the engine (the CLI) and handed to
/// `EngineCore(model:configuration:draft:)`; this type only names it.
///
/// Adaptivity: a step proposes nothing when more than `disable_by_batch_size` requests are
/// running (vLLM's key; default `defaultDisableByBatchSize`): with many sequences a step's
/// matmuls are already compute-bound, and verifying k more rows per sequence costs about k
/// decode steps, which acceptance rarely repays.
public struct SpeculativeConfig: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        /// Prompt lookup (`NgramProposer`).
        case ngram
        /// A draft model, by path or alias (`DraftModelProposer`).
        case draftModel(String)
    }

    public var method: Method
    public var numSpeculativeTokens: Int
    public var promptLookupMax: Int
    public var promptLookupMin: Int
    public var disableByBatchSize: Int

    public static let defaultDisableByBatchSize = 4

    public init(method: Method = .ngram, numSpeculativeTokens: Int, promptLookupMax: Int = 5, promptLookupMin: Int = 5,
                disableByBatchSize: Int = SpeculativeConfig.defaultDisableByBatchSize) {
        self.method = method
        self.numSpeculativeTokens = numSpeculativeTokens
        self.promptLookupMax = promptLookupMax
        self.promptLookupMin = promptLookupMin
        self.disableByBatchSize = disableByBatchSize
    }

    /// Parses the flag's JSON. Unknown keys, wrong types and out-of-range values are errors
    /// naming the key.
    public init(json: String) throws(EngineError) {
        let value: JSONValue
        do { value = try JSONParser.parse(Array(json.utf8)) } catch {
            throw .invalidConfiguration("--speculative-config is not valid JSON: \(error)")
        }
        guard let members = value.objectValue else { throw .invalidConfiguration("--speculative-config must be a JSON object") }
        let object = Dictionary(members, uniquingKeysWith: { _, last in last })
        let known: Set = ["method", "num_speculative_tokens", "prompt_lookup_max", "prompt_lookup_min", "disable_by_batch_size", "model"]
        let unknown = object.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw .invalidConfiguration("--speculative-config: unknown key(s) \(unknown.joined(separator: ", "))")
        }
        if let value = object["method"], value.stringValue == nil {
            throw .invalidConfiguration("--speculative-config: \"method\" must be a string (\"ngram\" or \"draft_model\")")
        }
        if let value = object["model"], value.stringValue?.isEmpty ?? true {
            throw .invalidConfiguration("--speculative-config: \"model\" must be a model path or alias")
        }
        let method: Method
        switch (object["method"]?.stringValue, object["model"]?.stringValue) {
        case ("ngram", nil): method = .ngram
        case ("ngram", _?): throw .invalidConfiguration("--speculative-config: method \"ngram\" takes no \"model\"")
        case ("draft_model", let model?), (nil, let model?): method = .draftModel(model)
        case ("draft_model", nil): throw .invalidConfiguration("--speculative-config: method \"draft_model\" needs a \"model\"")
        case (nil, nil): throw .invalidConfiguration("--speculative-config: give \"method\": \"ngram\" or a draft \"model\"")
        case (let other?, _):
            throw .invalidConfiguration("--speculative-config: method \"\(other)\" is not supported (supported: ngram, draft_model)")
        }
        if method != .ngram {
            for key in ["prompt_lookup_max", "prompt_lookup_min"] where object[key] != nil {
                throw .invalidConfiguration("--speculative-config: \"\(key)\" is for method \"ngram\", not a draft model")
            }
        }
        func integer(_ key: String) throws(EngineError) -> Int? {
            guard let value = object[key] else { return nil }
            guard let n = value.intValue, abs(n) < 1_000_000_000 else {
                throw .invalidConfiguration("--speculative-config: \"\(key)\" must be an integer")
            }
            return n
        }
        guard let k = try integer("num_speculative_tokens") else {
            throw .invalidConfiguration("--speculative-config: \"num_speculative_tokens\" is required")
        }
        // vLLM: either bound alone sets both; neither gives 5.
        let maxN = try integer("prompt_lookup_max"), minN = try integer("prompt_lookup_min")
        self.init(method: method, numSpeculativeTokens: k, promptLookupMax: maxN ?? minN ?? 5, promptLookupMin: minN ?? maxN ?? 5,
                  disableByBatchSize: try integer("disable_by_batch_size") ?? Self.defaultDisableByBatchSize)
        if let problem { throw .invalidConfiguration("--speculative-config: \(problem)") }
    }

    /// What is wrong with the values, if anything.
    public var problem: String? {
        if numSpeculativeTokens < 1 || numSpeculativeTokens > 16 { return "num_speculative_tokens must be between 1 and 16, got \(numSpeculativeTokens)" }
        if promptLookupMin < 1 { return "prompt_lookup_min must be at least 1, got \(promptLookupMin)" }
        if promptLookupMax < promptLookupMin { return "prompt_lookup_max (\(promptLookupMax)) must be at least prompt_lookup_min (\(promptLookupMin))" }
        if disableByBatchSize < 1 { return "disable_by_batch_size must be at least 1, got \(disableByBatchSize)" }
        return nil
    }

    var proposer: NgramProposer {
        NgramProposer(numSpeculativeTokens: numSpeculativeTokens, minN: promptLookupMin, maxN: promptLookupMax)
    }
}
