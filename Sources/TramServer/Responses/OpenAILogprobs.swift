import Foundation
import TramEngine
import TramTokenizer

/// OpenAI's two logprobs shapes (completions and chat) and vLLM's `prompt_logprobs`, built from
/// the engine's per-position `TokenLogprobs`. Values are clamped at -9999 as vLLM does, so JSON
/// never carries -inf.
enum OpenAILogprobs {
    static let floor: Float = -9999

    static func value(_ logprob: Float) -> Double { Double(max(logprob, floor)) }

    /// A token as text: its raw bytes read as UTF-8, a partial character becoming U+FFFD.
    static func text(_ id: Int, _ tokenizer: Tokenizer) -> String {
        String(decoding: tokenizer.bytes(of: id), as: UTF8.self)
    }

    /// The completions shape: parallel lists `tokens`, `token_logprobs`, `top_logprobs`,
    /// `text_offset`. Built incrementally, so a stream's chunks continue one choice's offsets.
    struct Completion: Encodable {
        var tokens: [String] = []
        var tokenLogprobs: [Double?] = []
        var topLogprobs: [[String: Double]?] = []
        var textOffset: [Int] = []
        /// Where the next token starts, in characters (Unicode scalars, as Python counts).
        var offset: Int

        init(offset: Int = 0) { self.offset = offset }

        /// Adds one position; `entry` is nil for the first prompt token, which has no logprob.
        /// `top` alternatives follow the chosen token, as vLLM lists them (at most `k` + 1 keys).
        mutating func append(_ tokenID: Int, _ entry: TokenLogprobs?, _ tokenizer: Tokenizer) {
            let token = OpenAILogprobs.text(tokenID, tokenizer)
            tokens.append(token)
            textOffset.append(offset)
            offset += token.unicodeScalars.count
            guard let entry else {
                tokenLogprobs.append(nil)
                topLogprobs.append(nil)
                return
            }
            tokenLogprobs.append(OpenAILogprobs.value(entry.logprob))
            var top: [String: Double] = [token: OpenAILogprobs.value(entry.logprob)]
            for alternative in entry.top {
                let text = OpenAILogprobs.text(alternative.tokenID, tokenizer)
                if top[text] == nil { top[text] = OpenAILogprobs.value(alternative.logprob) }
            }
            topLogprobs.append(top)
        }

        enum CodingKeys: String, CodingKey { case tokens, token_logprobs, top_logprobs, text_offset }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tokens, forKey: .tokens)
            try c.encode(tokenLogprobs, forKey: .token_logprobs)
            try c.encode(topLogprobs, forKey: .top_logprobs)
            try c.encode(textOffset, forKey: .text_offset)
        }
    }

    /// The chat shape: `{"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}`.
    struct Chat: Encodable {
        struct Alternative: Encodable {
            var token: String
            var logprob: Double
            var bytes: [Int]
        }

        struct Position: Encodable {
            var token: String
            var logprob: Double
            var bytes: [Int]
            var top_logprobs: [Alternative]
        }

        var content: [Position]

        init(_ tokenIDs: [Int], _ entries: [TokenLogprobs], topK: Int, _ tokenizer: Tokenizer) {
            func item(_ id: Int, _ logprob: Float) -> Alternative {
                let bytes = tokenizer.bytes(of: id)
                return Alternative(token: String(decoding: bytes, as: UTF8.self), logprob: value(logprob), bytes: bytes.map(Int.init))
            }
            content = zip(tokenIDs, entries).map { id, entry in
                let chosen = item(id, entry.logprob)
                return Position(token: chosen.token, logprob: chosen.logprob, bytes: chosen.bytes,
                                top_logprobs: entry.top.prefix(topK).map { item($0.tokenID, $0.logprob) })
            }
        }
    }

    /// vLLM's `prompt_logprobs`: null for the first token, then per position a map from token id
    /// to `{logprob, rank, decoded_token}` holding the actual prompt token and the top alternatives.
    typealias Prompt = [[String: PromptEntry]?]

    struct PromptEntry: Encodable {
        var logprob: Double
        var rank: Int
        var decoded_token: String
    }

    static func prompt(_ promptTokenIDs: [Int], _ entries: [TokenLogprobs?], _ tokenizer: Tokenizer) -> Prompt {
        zip(promptTokenIDs, entries).map { id, entry -> [String: PromptEntry]? in
            guard let entry else { return nil }
            var position: [String: PromptEntry] = [:]
            for (rank, alternative) in entry.top.enumerated() {
                position[String(alternative.tokenID)] = PromptEntry(
                    logprob: value(alternative.logprob), rank: rank + 1, decoded_token: text(alternative.tokenID, tokenizer))
            }
            position[String(id)] = PromptEntry(logprob: value(entry.logprob), rank: entry.rank, decoded_token: text(id, tokenizer))
            return position
        }
    }
}
