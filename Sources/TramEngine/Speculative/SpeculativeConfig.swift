import TramJSON

/// `--speculative-config`, with vLLM's keys. Only the n-gram (prompt lookup) method exists so
/// far; a draft model (`"model"`) is refused with an error saying so.
///
///     {"method": "ngram", "num_speculative_tokens": 5, "prompt_lookup_max": 4, "prompt_lookup_min": 2}
///
/// Adaptivity: a step proposes nothing when more than `disable_by_batch_size` requests are
/// running (vLLM's key; default `defaultDisableByBatchSize`): with many sequences a step's
/// matmuls are already compute-bound, and verifying k more rows per sequence costs about k
/// decode steps, which acceptance rarely repays.
public struct SpeculativeConfig: Sendable, Equatable {
    public var numSpeculativeTokens: Int
    public var promptLookupMax: Int
    public var promptLookupMin: Int
    public var disableByBatchSize: Int

    public static let defaultDisableByBatchSize = 4

    public init(numSpeculativeTokens: Int, promptLookupMax: Int, promptLookupMin: Int,
                disableByBatchSize: Int = SpeculativeConfig.defaultDisableByBatchSize) {
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
        if object["model"] != nil {
            throw .invalidConfiguration("--speculative-config: draft models (\"model\") are not supported yet; use {\"method\": \"ngram\", …}")
        }
        guard let method = object["method"]?.stringValue else {
            throw .invalidConfiguration("--speculative-config: \"method\" must be given as a string (\"ngram\")")
        }
        guard method == "ngram" else {
            throw .invalidConfiguration("--speculative-config: method \"\(method)\" is not supported (supported: ngram)")
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
        self.init(numSpeculativeTokens: k, promptLookupMax: maxN ?? minN ?? 5, promptLookupMin: minN ?? maxN ?? 5,
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
