import Synchronization
package import TramEngine
package import TramGrammar
package import TramJSON
package import TramTokenizer
package import TramTools

/// Structured outputs for one model: the grammar view of its vocabulary (built on first use)
/// and the compiled grammars of recent requests, keyed by what they ask (the same schema sent
/// again reuses the compiled grammar and every token mask already computed for it). Compiles
/// on the caller's thread (the HTTP handler's), never the engine's.
package final class GrammarCompilerCache: Sendable {
    private let tokenizer: Tokenizer
    private let logitsWidth: Int
    private let stopTokens: [Int]
    private let state = Mutex(State())
    /// Compiled grammars kept (least recently used first out).
    package let capacity: Int

    private struct State {
        var vocabulary: TokenVocabulary?
        var grammars: [StructuredOutputRequest.Constraint: CompiledGrammar] = [:]
        var order: [StructuredOutputRequest.Constraint] = []
    }

    /// - Parameters:
    ///   - logitsWidth: the model's output width (masks cover every logit).
    ///   - stopTokens: the model's end-of-sequence ids, allowed where a grammar can end.
    package init(tokenizer: Tokenizer, logitsWidth: Int, stopTokens: Set<Int>, capacity: Int = 64) {
        self.tokenizer = tokenizer
        self.logitsWidth = logitsWidth
        self.stopTokens = stopTokens.sorted()
        self.capacity = capacity
    }

    package var vocabulary: TokenVocabulary {
        if let v = state.withLock({ $0.vocabulary }) { return v }
        let built = TokenVocabulary(tokenizer: tokenizer, size: logitsWidth, stopTokens: stopTokens)
        return state.withLock { s in
            if let v = s.vocabulary { return v }
            s.vocabulary = built
            return built
        }
    }

    /// The compiled grammar of `request` (from the cache, or compiled now, its first mask
    /// computed), or an `InputError` naming the field and the problem.
    package func grammar(for request: StructuredOutputRequest) throws -> CompiledGrammar {
        if let cached = state.withLock({ s -> CompiledGrammar? in
            guard let g = s.grammars[request.constraint] else { return nil }
            s.order.removeAll { $0 == request.constraint }
            s.order.append(request.constraint)
            return g
        }) {
            return cached
        }
        let compiled: CompiledGrammar
        do {
            compiled = try CompiledGrammar(Self.grammar(request.constraint), vocabulary: vocabulary)
        } catch let error as GrammarError {
            throw InputError("structured output cannot be compiled: \(error.description)", param: request.param)
        }
        _ = GrammarMatcher(grammar: compiled).nextTokenMask()
        state.withLock { s in
            s.grammars[request.constraint] = compiled
            s.order.append(request.constraint)
            while s.order.count > capacity { s.grammars[s.order.removeFirst()] = nil }
        }
        return compiled
    }

    static func grammar(_ constraint: StructuredOutputRequest.Constraint) throws -> Grammar {
        switch constraint {
        case .jsonSchema(let schema, let options):
            return try JSONSchemaCompiler.compile(schema.text, options: options.compilerOptions)
        case .jsonObject(let options):
            return JSONSchemaCompiler.anyObject(options: options.compilerOptions)
        case .regex(let pattern): return try RegexCompiler.compile(pattern)
        case .choice(let options): return try Grammar.choices(options)
        case .grammar(let source): return try EBNFParser.parse(source)
        }
    }
}

extension StructuredOutputRequest.JSONSchemaOptions {
    var compilerOptions: JSONSchemaCompiler.Options {
        JSONSchemaCompiler.Options(anyWhitespace: anyWhitespace, disableAdditionalProperties: disableAdditionalProperties)
    }
}

/// A grammar's matcher as the sampler's logits processor: tokens the grammar does not allow next
/// get -infinity; the token drawn advances the matcher. One per sample, on the engine thread.
package final class GrammarLogitsProcessor: LogitsProcessor {
    private var matcher: GrammarMatcher

    package init(grammar: CompiledGrammar) {
        matcher = GrammarMatcher(grammar: grammar)
    }

    package func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        let mask = matcher.nextTokenMask()
        let width = min(logits.count, mask.count * 32)
        mask.withUnsafeBufferPointer { words in
            var w = 0
            while w * 32 < width {
                let word = words[w]
                if word != .max {
                    let base = w * 32
                    for bit in 0..<min(32, width - base) where word & (1 << UInt32(bit)) == 0 {
                        logits[base + bit] = -.infinity
                    }
                }
                w += 1
            }
        }
        for i in width..<logits.count { logits[i] = -.infinity }
    }

    package func accept(_ tokenID: Int) {
        matcher.accept(tokenID)
    }

    /// Text the output got other than as one whole token (the answer's start, when a token
    /// closed the reasoning and went on).
    package func accept(text: String) {
        matcher.accept(bytes: text.utf8)
    }
}

/// A grammar that constrains only the answer after the model's reasoning (`--reasoning-parser`),
/// as vLLM applies structured outputs once reasoning ends: while the model thinks, nothing is
/// masked; before it has shown whether it will think (Qwen3), the grammar's tokens and the
/// `<think>` token are allowed.
package final class ReasoningGatedLogitsProcessor: LogitsProcessor {
    private var reasoner: ReasoningParser
    private let grammar: GrammarLogitsProcessor
    private let text: @Sendable (Int) -> String
    private let thinkToken: Int?
    private let startsThinking: Bool

    package init(grammar: CompiledGrammar, reasoning: ReasoningParser.Kind, thinkToken: Int?, text: @escaping @Sendable (Int) -> String) {
        reasoner = ReasoningParser(reasoning)
        self.grammar = GrammarLogitsProcessor(grammar: grammar)
        self.text = text
        self.thinkToken = thinkToken
        startsThinking = reasoning == .deepseekR1
    }

    package func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        if reasoner.isThinking || (startsThinking && !reasoner.isAnswering) { return }
        let keep = thinkToken.flatMap { logits.indices.contains($0) ? logits[$0] : nil }
        grammar.apply(to: logits)
        if !reasoner.isAnswering, let t = thinkToken, let keep { logits[t] = keep }
    }

    package func accept(_ tokenID: Int) {
        if reasoner.isAnswering {
            grammar.accept(tokenID)
            return
        }
        let (_, content) = reasoner.feed(text(tokenID))
        if !content.isEmpty { grammar.accept(text: content) }
    }
}
