import TramJSON

/// Builds pipeline stages from their tokenizer.json objects (`{"type": …, …}`), refusing any
/// type or option that is not implemented rather than tokenizing differently from the model.
enum HuggingFaceStages {
    static func normalizer(_ value: JSONValue?, path: String) throws(TokenizerError) -> (any Normalizer)? {
        guard let value, !value.isNull else { return nil }
        let type = try value.requiredString("type", path: path)
        switch type {
        case "Sequence":
            guard let items = value["normalizers"]?.arrayValue else {
                throw .invalidValue(path: "\(path).normalizers", reason: "expected an array")
            }
            var stages: [any Normalizer] = []
            for (index, item) in items.enumerated() {
                if let stage = try normalizer(item, path: "\(path).normalizers[\(index)]") { stages.append(stage) }
            }
            return SequenceNormalizer(stages: stages)
        case "Prepend":
            return PrependNormalizer(prefix: Array(try value.requiredString("prepend", path: path).unicodeScalars))
        case "Replace":
            return ReplaceNormalizer(
                pattern: Array(try literalPattern(value, path: path).unicodeScalars),
                content: Array(try value.requiredString("content", path: path).unicodeScalars))
        default:
            if let form = UnicodeFormNormalizer.Form(rawValue: type) { return UnicodeFormNormalizer(form: form) }
            throw .unsupported(component: path, detail: type)
        }
    }

    static func preTokenizer(_ value: JSONValue?, path: String) throws(TokenizerError) -> (any PreTokenizer)? {
        guard let value, !value.isNull else { return nil }
        let type = try value.requiredString("type", path: path)
        switch type {
        case "Sequence":
            guard let items = value["pretokenizers"]?.arrayValue else {
                throw .invalidValue(path: "\(path).pretokenizers", reason: "expected an array")
            }
            var stages: [any PreTokenizer] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).pretokenizers[\(index)]"
                if item["type"]?.stringValue == "ByteLevel", index != items.count - 1 {
                    throw .unsupported(component: itemPath, detail: "ByteLevel before other pre-tokenizers")
                }
                if let stage = try preTokenizer(item, path: itemPath) { stages.append(stage) }
            }
            return SequencePreTokenizer(stages: stages)
        case "ByteLevel":
            return ByteLevelPreTokenizer(
                addPrefixSpace: try value.optionalBool("add_prefix_space", path: path, default: true),
                useRegex: try value.optionalBool("use_regex", path: path, default: true))
        case "Digits":
            return DigitsPreTokenizer(
                individualDigits: try value.optionalBool("individual_digits", path: path, default: false))
        case "Metaspace":
            return try metaspace(value, path: path)
        case "Split":
            guard try !value.optionalBool("invert", path: path, default: false) else {
                throw .unsupported(component: path, detail: "Split with invert")
            }
            let behaviorName = try value.requiredString("behavior", path: path)
            guard let behavior = SplitDelimiterBehavior(rawValue: behaviorName) else {
                throw .unsupported(component: "\(path).behavior", detail: behaviorName)
            }
            if let regex = value["pattern"]?["Regex"]?.stringValue {
                guard let scanner = KnownPattern.scanner(for: regex) else { throw .unknownSplitPattern(regex) }
                guard behavior == .isolated else {
                    throw .unsupported(component: "\(path).behavior", detail: "\(behaviorName) with a regex")
                }
                return SplitPreTokenizer(pattern: .scanner(scanner), behavior: behavior)
            }
            let literal = try literalPattern(value, path: path)
            return SplitPreTokenizer(pattern: .literal(Array(literal.unicodeScalars)), behavior: behavior)
        default:
            throw .unsupported(component: path, detail: type)
        }
    }

    /// Whether the pre-tokenizer ends with ByteLevel, which makes the model byte-level.
    static func usesByteLevel(_ value: JSONValue?) throws(TokenizerError) -> Bool {
        guard let value, !value.isNull else { return false }
        if value["type"]?.stringValue == "ByteLevel" { return true }
        if value["type"]?.stringValue == "Sequence", let last = value["pretokenizers"]?.arrayValue?.last {
            return try usesByteLevel(last)
        }
        return false
    }

    private static func metaspace(_ value: JSONValue, path: String) throws(TokenizerError) -> MetaspacePreTokenizer {
        var stage = MetaspacePreTokenizer()
        if let replacement = value["replacement"]?.stringValue {
            let scalars = Array(replacement.unicodeScalars)
            guard scalars.count == 1 else {
                throw .invalidValue(path: "\(path).replacement", reason: "expected one character")
            }
            stage.replacement = scalars[0]
        }
        if let scheme = value["prepend_scheme"]?.stringValue {
            guard let parsed = MetaspacePreTokenizer.PrependScheme(rawValue: scheme) else {
                throw .unsupported(component: "\(path).prepend_scheme", detail: scheme)
            }
            stage.prependScheme = parsed
        } else {
            // Older files: add_prefix_space true means "always".
            stage.prependScheme = try value.optionalBool("add_prefix_space", path: path, default: true) ? .always : .never
        }
        stage.split = try value.optionalBool("split", path: path, default: true)
        return stage
    }

    static func decoder(_ value: JSONValue?, path: String) throws(TokenizerError) -> TokenDecoder {
        var decoder = TokenDecoder()
        guard let value, !value.isNull else { return decoder }
        try addDecoder(value, path: path, to: &decoder)
        return decoder
    }

    private static func addDecoder(_ value: JSONValue, path: String, to decoder: inout TokenDecoder) throws(TokenizerError) {
        let type = try value.requiredString("type", path: path)
        switch type {
        case "Sequence":
            guard let items = value["decoders"]?.arrayValue else {
                throw .invalidValue(path: "\(path).decoders", reason: "expected an array")
            }
            for (index, item) in items.enumerated() { try addDecoder(item, path: "\(path).decoders[\(index)]", to: &decoder) }
        case "ByteLevel":
            decoder.byteLevel = true
        case "ByteFallback":
            decoder.byteFallback = true
        case "Fuse":
            break  // concatenation is what decoding does anyway
        case "Replace":
            decoder.replacements.append((try literalPattern(value, path: path), try value.requiredString("content", path: path)))
        case "Strip":
            let content = try value.requiredString("content", path: path)
            let start = value["start"]?.intValue ?? 0
            let stop = value["stop"]?.intValue ?? 0
            guard content == " ", start <= 1, stop == 0 else {
                throw .unsupported(component: path, detail: "Strip other than one leading space")
            }
            decoder.stripLeadingSpace = decoder.stripLeadingSpace || start == 1
        case "Metaspace":
            let stage = try metaspace(value, path: path)
            decoder.replacements.append((String(stage.replacement), " "))
            decoder.stripLeadingSpace = stage.prependScheme != .never
        default:
            throw .unsupported(component: path, detail: type)
        }
    }

    /// The ids a post-processor puts around a single sequence: `TemplateProcessing`'s
    /// `single` template, `RobertaProcessing`/`BertProcessing`'s cls/sep; nothing for `ByteLevel`.
    static func template(_ value: JSONValue?, path: String) throws(TokenizerError) -> (prefix: [Int], suffix: [Int]) {
        guard let value, !value.isNull else { return ([], []) }
        let type = try value.requiredString("type", path: path)
        switch type {
        case "ByteLevel":
            return ([], [])
        case "Sequence":
            var result: (prefix: [Int], suffix: [Int]) = ([], [])
            for (index, item) in (value["processors"]?.arrayValue ?? []).enumerated() {
                let part = try template(item, path: "\(path).processors[\(index)]")
                result.prefix += part.prefix
                result.suffix = part.suffix + result.suffix
            }
            return result
        case "RobertaProcessing", "BertProcessing":
            guard let cls = value["cls"]?.arrayValue?.last?.intValue, let sep = value["sep"]?.arrayValue?.last?.intValue else {
                throw .invalidValue(path: path, reason: "expected cls and sep as [token, id]")
            }
            return ([cls], [sep])
        case "TemplateProcessing":
            guard let single = value["single"]?.arrayValue else {
                throw .invalidValue(path: "\(path).single", reason: "expected an array")
            }
            var prefix: [Int] = []
            var suffix: [Int] = []
            var seenSequence = false
            for (index, piece) in single.enumerated() {
                if piece["Sequence"] != nil {
                    seenSequence = true
                } else if let name = piece["SpecialToken"]?["id"]?.stringValue {
                    guard let ids = value["special_tokens"]?[name]?["ids"]?.arrayValue?.compactMap(\.intValue) else {
                        throw .invalidValue(path: "\(path).special_tokens.\(name)", reason: "expected ids")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else {
                    throw .invalidValue(path: "\(path).single[\(index)]", reason: "expected Sequence or SpecialToken")
                }
            }
            return (prefix, suffix)
        default:
            throw .unsupported(component: path, detail: type)
        }
    }

    /// The `{"String": …}` pattern of a Replace or Split; regex patterns are refused.
    private static func literalPattern(_ value: JSONValue, path: String) throws(TokenizerError) -> String {
        if let string = value["pattern"]?["String"]?.stringValue { return string }
        if let regex = value["pattern"]?["Regex"]?.stringValue {
            throw .unsupported(component: "\(path).pattern", detail: "Regex \(regex)")
        }
        throw .invalidValue(path: "\(path).pattern", reason: "expected {\"String\": …}")
    }
}
