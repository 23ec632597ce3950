public import Foundation
import TramJSON

extension Tokenizer {
    /// Builds the tokenizer a Hugging Face `tokenizer.json` describes (a BPE model), with
    /// `tokenizer_config.json` for `add_bos_token`/`add_eos_token` and `bos_token`/`eos_token`.
    ///
    /// BOS/EOS: a flag present in the config decides; without it, the `post_processor`'s
    /// template does (as `tokenizers` alone would). Added tokens are matched by content with
    /// `lstrip`/`rstrip` honoured; `single_word` is ignored, and tokens marked `normalized`
    /// are matched on the text before normalization.
    public convenience init(tokenizerJSON: Data, tokenizerConfigJSON: Data? = nil) throws {
        let root = try Self.parseJSON([UInt8](tokenizerJSON))
        let config = try tokenizerConfigJSON.map { data throws(TokenizerError) in try Self.parseJSON([UInt8](data)) }
        try self.init(parts: Self.huggingFaceParts(root, config: config))
    }

    /// A tokenizer file's JSON, its errors as `TokenizerError`s.
    static func parseJSON(_ bytes: [UInt8]) throws(TokenizerError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch { throw .invalidJSON(offset: error.offset, reason: error.reason) }
    }

    static func huggingFaceParts(_ root: JSONValue, config: JSONValue?) throws(TokenizerError) -> Parts {
        guard root.objectValue != nil else { throw .invalidValue(path: "$", reason: "expected an object") }
        guard let modelJSON = root["model"], modelJSON.objectValue != nil else {
            throw .invalidValue(path: "model", reason: "expected an object")
        }
        let modelType = modelJSON["type"]?.stringValue ?? (modelJSON["merges"] != nil ? "BPE" : "unknown")
        guard modelType == "BPE" else { throw .unsupported(component: "model", detail: modelType) }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = modelJSON[key]?.stringValue, !affix.isEmpty {
                throw .unsupported(component: "model.\(key)", detail: affix)
            }
        }

        // Vocabulary, then added tokens (which may extend it).
        guard let vocabJSON = modelJSON["vocab"]?.objectValue else {
            throw .invalidValue(path: "model.vocab", reason: "expected an object of token → id")
        }
        var vocabulary: [ByteString: Int32] = [:]
        vocabulary.reserveCapacity(vocabJSON.count)
        var tokens: [String?] = []
        func place(_ token: String, id: Int, path: String) throws(TokenizerError) {
            guard id >= 0, id < 16_777_216 else {
                throw .invalidValue(path: path, reason: "token id \(id) is out of range")
            }
            if id >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: id + 1 - tokens.count)) }
            tokens[id] = token
        }
        for (token, value) in vocabJSON {
            guard let id = value.intValue else {
                throw .invalidValue(path: "model.vocab.\(token)", reason: "expected an integer id")
            }
            try place(token, id: id, path: "model.vocab.\(token)")
            vocabulary[ByteString(token)] = Int32(id)
        }
        let addedTokens = try parseAddedTokens(root["added_tokens"])
        for token in addedTokens {
            try place(String(String.UnicodeScalarView(token.content)), id: Int(token.id), path: "added_tokens")
        }
        guard !tokens.isEmpty else { throw .emptyVocabulary }

        let merges = try parseMerges(modelJSON["merges"], vocabulary: vocabulary)
        let preTokenizer = try HuggingFaceStages.preTokenizer(root["pre_tokenizer"], path: "pre_tokenizer")
        let normalizer = try HuggingFaceStages.normalizer(root["normalizer"], path: "normalizer")
        let byteLevel = try HuggingFaceStages.usesByteLevel(root["pre_tokenizer"])
        var unknownID: Int32?
        if let unknown = modelJSON["unk_token"]?.stringValue {
            unknownID = vocabulary[ByteString(unknown)]
                ?? addedTokens.first { $0.content.elementsEqual(unknown.unicodeScalars) }?.id
        }
        let model = BytePairModel(
            vocabulary: vocabulary, merges: merges,
            alphabet: byteLevel ? .byteLevel : .scalars(byteFallback: try modelJSON.optionalBool(
                "byte_fallback", path: "model", default: false)),
            unknownID: unknownID,
            fuseUnknown: try modelJSON.optionalBool("fuse_unk", path: "model", default: false),
            ignoreMerges: try modelJSON.optionalBool("ignore_merges", path: "model", default: false))
        let decoder = try HuggingFaceStages.decoder(root["decoder"], path: "decoder")

        // BOS/EOS.
        func id(of token: String) -> Int? {
            let key = ByteString(token)
            if let added = addedTokens.first(where: { ByteString(scalars: $0.content) == key }) { return Int(added.id) }
            return vocabulary[key].map(Int.init)
        }
        let template = try HuggingFaceStages.template(root["post_processor"], path: "post_processor")
        let bos = config.flatMap { configTokenContent($0["bos_token"]) }.flatMap(id(of:))
            ?? (template.prefix.count == 1 ? template.prefix[0] : nil)
        let eos = config.flatMap { configTokenContent($0["eos_token"]) }.flatMap(id(of:))
            ?? (template.suffix.count == 1 ? template.suffix[0] : nil)
        var prefix = template.prefix
        var suffix = template.suffix
        if let addBOS = config?["add_bos_token"]?.boolValue { prefix = addBOS ? bos.map { [$0] } ?? [] : [] }
        if let addEOS = config?["add_eos_token"]?.boolValue { suffix = addEOS ? eos.map { [$0] } ?? [] : [] }

        return Parts(
            normalizer: normalizer, preTokenizer: preTokenizer, model: model, decoder: decoder,
            tokens: tokens, addedTokens: addedTokens, prefixIDs: prefix, suffixIDs: suffix,
            bosTokenID: bos, eosTokenID: eos)
    }

    /// `bos_token` in tokenizer_config.json is either a string or `{"content": …}`.
    private static func configTokenContent(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["content"]?.stringValue
    }

    private static func parseAddedTokens(_ value: JSONValue?) throws(TokenizerError) -> [AddedToken] {
        guard let value, !value.isNull else { return [] }
        guard let entries = value.arrayValue else {
            throw .invalidValue(path: "added_tokens", reason: "expected an array")
        }
        var tokens: [AddedToken] = []
        for (index, entry) in entries.enumerated() {
            let path = "added_tokens[\(index)]"
            guard let id = entry["id"]?.intValue, id >= 0, id <= Int(Int32.max) else {
                throw .invalidValue(path: "\(path).id", reason: "expected a non-negative integer")
            }
            let content = try entry.requiredString("content", path: path)
            guard !content.isEmpty else { continue }
            tokens.append(AddedToken(
                content: Array(content.unicodeScalars), id: Int32(id),
                special: try entry.optionalBool("special", path: path, default: false),
                lstrip: try entry.optionalBool("lstrip", path: path, default: false),
                rstrip: try entry.optionalBool("rstrip", path: path, default: false)))
        }
        return tokens
    }

    /// Merges as `"left right"` strings (older files) or `["left", "right"]` pairs (newer).
    /// Like `tokenizers`, a merge naming a token outside the vocabulary is an error.
    private static func parseMerges(
        _ value: JSONValue?, vocabulary: [ByteString: Int32]
    ) throws(TokenizerError) -> MergeTable {
        var merges = MergeTable()
        guard let value, !value.isNull else { return merges }
        guard let entries = value.arrayValue else {
            throw .invalidValue(path: "model.merges", reason: "expected an array")
        }
        for (rank, entry) in entries.enumerated() {
            let pair: (String, String)?
            if let string = entry.stringValue {
                pair = splitMerge(string)
            } else if let parts = entry.arrayValue, parts.count == 2,
                      let left = parts[0].stringValue, let right = parts[1].stringValue {
                pair = (left, right)
            } else {
                pair = nil
            }
            guard let (left, right) = pair else {
                throw .invalidValue(path: "model.merges[\(rank)]", reason: "expected \"a b\" or [\"a\", \"b\"]")
            }
            guard let leftID = vocabulary[ByteString(left)], let rightID = vocabulary[ByteString(right)],
                  let mergedID = vocabulary[ByteString(left + right)] else {
                throw .invalidMerge(index: rank, merge: "\(left) \(right)")
            }
            merges.add(left: leftID, right: rightID, merged: mergedID, rank: UInt32(rank))
        }
        return merges
    }
}
