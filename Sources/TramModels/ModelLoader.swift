import Foundation
public import Logging
import TramFormats
public import TramTokenizer

/// Loads a model from a `.gguf` file or a Hugging Face-style directory.
public enum ModelLoader {
    /// - Parameters:
    ///   - precision: how weights are prepared; `.int8` quantizes float linear weights at load.
    ///   - threads: threads for load-time work such as online quantization (default: the number of cores).
    ///   - logger: where load-time work reports progress and timing (default: nowhere).
    public static func load(path: String, precision: WeightPrecision = .native, name: String? = nil,
                            threads: Int? = nil, logger: Logger = silentLogger) throws(ModelError) -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .notFound(path) }
        let displayName = name ?? URL(fileURLWithPath: path).lastPathComponent
        let options = LoadOptions(precision: precision, threads: max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount), logger: logger)
        return isDirectory.boolValue
            ? try loadDirectory(path, options: options, name: displayName)
            : try loadGGUF(path, options: options, name: displayName)
    }

    /// A logger that discards everything: `load`'s default, so tests and libraries stay quiet.
    public static let silentLogger = Logger(label: "tram.models") { _ in SwiftLogNoOpLogHandler() }

    /// Only the tokenizer of a `.gguf` file or a Hugging Face-style directory, without touching
    /// the weights: a GGUF's metadata is read from its memory map, a directory's
    /// `tokenizer.json`. For clients such as `tram bench serve` that count tokens but run no model.
    public static func loadTokenizer(path: String) throws(ModelError) -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .notFound(path) }
        if isDirectory.boolValue { return try directoryTokenizer(URL(fileURLWithPath: path)).tokenizer }
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .format(error) }
        return try ggufTokenizer(file, path: path)
    }

    static func ggufTokenizer(_ file: GGUFFile, path: String) throws(ModelError) -> Tokenizer {
        let data: GGUFTokenizerData
        do {
            data = GGUFTokenizerData(
                model: try file.string("tokenizer.ggml.model"),
                pre: try file.optionalString("tokenizer.ggml.pre"),
                tokens: try file.optionalStringArray("tokenizer.ggml.tokens") ?? [],
                tokenTypes: try file.optionalIntArray("tokenizer.ggml.token_type")?.map { Int32(truncatingIfNeeded: $0) },
                merges: try file.optionalStringArray("tokenizer.ggml.merges"),
                scores: try file.optionalFloatArray("tokenizer.ggml.scores"),
                bosTokenID: try file.optionalInt("tokenizer.ggml.bos_token_id"),
                eosTokenID: try file.optionalInt("tokenizer.ggml.eos_token_id"),
                unknownTokenID: try file.optionalInt("tokenizer.ggml.unknown_token_id"),
                paddingTokenID: try file.optionalInt("tokenizer.ggml.padding_token_id"),
                addBOS: try file.optionalBool("tokenizer.ggml.add_bos_token"),
                addEOS: try file.optionalBool("tokenizer.ggml.add_eos_token"),
                addSpacePrefix: try file.optionalBool("tokenizer.ggml.add_space_prefix")
            )
        } catch { throw .format(error) }
        do { return try Tokenizer(gguf: data) } catch { throw .tokenizer(path: path, reason: "\(error)") }
    }

    /// A directory's tokenizer and its `tokenizer_config.json`, if any.
    static func directoryTokenizer(_ dir: URL) throws(ModelError) -> (tokenizer: Tokenizer, config: Data?) {
        guard let tokenizerData = try read("tokenizer.json", in: dir) else {
            throw .tokenizer(path: dir.path, reason: "tokenizer.json is missing")
        }
        let tokenizerConfig = try read("tokenizer_config.json", in: dir)
        do {
            return (try Tokenizer(tokenizerJSON: tokenizerData, tokenizerConfigJSON: tokenizerConfig), tokenizerConfig)
        } catch {
            throw .tokenizer(path: dir.path, reason: "\(error)")
        }
    }

    /// A file of `dir`, or nil when it does not exist.
    static func read(_ file: String, in dir: URL) throws(ModelError) -> Data? {
        let url = dir.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try Data(contentsOf: url) } catch { throw .format(.cannotOpen(path: url.path, reason: error.localizedDescription)) }
    }

    static func loadGGUF(_ path: String, options: LoadOptions, name: String) throws(ModelError) -> LoadedModel {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .format(error) }
        let arch: String
        do { arch = try file.string("general.architecture") } catch { throw .format(error) }
        let entry = try ModelRegistry.entry(arch, path: path)
        let model = try entry.loadGGUF(file, arch, options)
        let tokenizer = try ggufTokenizer(file, path: path)
        var eos = Set<Int>()
        if let e = tokenizer.eosTokenID { eos.insert(e) }
        if let e = try? file.optionalInt("tokenizer.ggml.eot_token_id") { eos.insert(e) }
        eos.formUnion(endOfTurnIDs(entry, tokenizer))
        return LoadedModel(
            model: model, tokenizer: tokenizer, chatTemplate: try? file.optionalString("tokenizer.chat_template"),
            eosTokenIDs: eos, name: name, path: path, format: "gguf", architecture: arch, generationDefaults: GenerationDefaults())
    }

    /// The ids of the architecture's end-of-turn tokens that the vocabulary holds as added tokens.
    static func endOfTurnIDs(_ entry: ModelRegistry.Entry, _ tokenizer: Tokenizer) -> Set<Int> {
        Set(entry.endOfTurnTokens.compactMap { tokenizer.addedTokenID(for: $0) })
    }

    static func loadDirectory(_ path: String, options: LoadOptions, name: String) throws(ModelError) -> LoadedModel {
        let dir = URL(fileURLWithPath: path)
        func read(_ file: String) throws(ModelError) -> Data? { try ModelLoader.read(file, in: dir) }
        guard let configData = try read("config.json") else { throw .notFound(path) }
        let configPath = dir.appendingPathComponent("config.json").path
        let raw: HFConfig
        do { raw = try JSONDecoder().decode(HFConfig.self, from: configData) } catch {
            throw .invalidConfiguration(path: configPath, reason: "config.json: \(error)")
        }
        let archName = raw.architectures?.first ?? raw.model_type ?? "unknown"
        let entry = try ModelRegistry.entry(archName, path: path)
        let checkpoint: SafetensorsCheckpoint
        do { checkpoint = try SafetensorsCheckpoint(directory: path) } catch { throw .format(error) }
        let model = try entry.loadHF(configData, configPath, checkpoint, options)

        let (tokenizer, tokenizerConfig) = try directoryTokenizer(dir)
        var chatTemplate: String?
        if let data = tokenizerConfig, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let t = object["chat_template"] as? String {
                chatTemplate = t
            } else if let list = object["chat_template"] as? [[String: Any]] {
                // Newer configs list named templates; "default" is the chat template.
                chatTemplate = list.first { $0["name"] as? String == "default" }?["template"] as? String
            }
        }
        if chatTemplate == nil, let data = try read("chat_template.jinja") { chatTemplate = String(decoding: data, as: UTF8.self) }

        var eos = Set<Int>()
        if let e = tokenizer.eosTokenID { eos.insert(e) }
        eos.formUnion(raw.eos_token_id?.values ?? [])
        eos.formUnion(endOfTurnIDs(entry, tokenizer))
        var defaults = GenerationDefaults()
        if let data = try read("generation_config.json") {
            guard let g = try? JSONDecoder().decode(GenerationConfig.self, from: data) else {
                throw .invalidConfiguration(path: dir.appendingPathComponent("generation_config.json").path, reason: "not a valid generation config")
            }
            eos.formUnion(g.eos_token_id?.values ?? [])
            defaults = GenerationDefaults(temperature: g.temperature, topP: g.top_p, topK: g.top_k, repetitionPenalty: g.repetition_penalty,
                                          minP: g.min_p, maxNewTokens: g.max_new_tokens)
        }
        return LoadedModel(
            model: model, tokenizer: tokenizer, chatTemplate: chatTemplate, eosTokenIDs: eos,
            name: name, path: path, format: "safetensors", architecture: archName, generationDefaults: defaults)
    }
}

extension GenerationDefaults {
    /// The sampling defaults of a `generation_config.json` (given as the file or its directory),
    /// for `--generation-config PATH`.
    public init(contentsOf path: String) throws(ModelError) {
        var isDirectory: ObjCBool = false
        var file = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = file.appendingPathComponent("generation_config.json")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw .invalidConfiguration(path: file.path, reason: "cannot read the file")
        }
        guard let g = try? JSONDecoder().decode(GenerationConfig.self, from: data) else {
            throw .invalidConfiguration(path: file.path, reason: "not a valid generation config")
        }
        self.init(temperature: g.temperature, topP: g.top_p, topK: g.top_k, repetitionPenalty: g.repetition_penalty,
                  minP: g.min_p, maxNewTokens: g.max_new_tokens)
    }
}

struct GenerationConfig: Decodable {
    var eos_token_id: IntOrList?
    var temperature: Double?
    var top_p: Double?
    var top_k: Int?
    var repetition_penalty: Double?
    var min_p: Double?
    var max_new_tokens: Int?
}
