import Testing
import TramGrammar
import TramInput
import TramTools

/// A grammar constrains only the answer after the reasoning: unmasked while the model thinks,
/// masked once `</think>` is out (and before that, for Qwen3, only the grammar's tokens and
/// `<think>`).
@Suite struct ReasoningGateTests {
    static let tokens = ["<think>", "hmm", "</think>", "{", "}", "\n", "x", "</think>\n{"]

    static func allowed(_ p: ReasoningGatedLogitsProcessor) -> [String] {
        var logits = [Float](repeating: 0, count: tokens.count + 1)
        logits.withUnsafeMutableBufferPointer { p.apply(to: $0) }
        return tokens.indices.filter { logits[$0] == 0 }.map { tokens[$0] }
    }

    static func processor(_ kind: ReasoningParser.Kind) throws -> ReasoningGatedLogitsProcessor {
        let vocabulary = TokenVocabulary(size: tokens.count + 1, stopTokens: [tokens.count]) { Array(tokens[$0].utf8) }
        var g = Grammar()
        g.define("root", .literal("{}"))
        let grammar = try CompiledGrammar(g, vocabulary: vocabulary)
        return ReasoningGatedLogitsProcessor(grammar: grammar, reasoning: kind, thinkToken: 0) { tokens[$0] }
    }

    @Test func qwen3ThinksThenAnswers() throws {
        let p = try Self.processor(.qwen3)
        #expect(Self.allowed(p) == ["<think>", "{"], "before it shows whether it thinks: the grammar and <think>")
        p.accept(0)
        #expect(Self.allowed(p) == Self.tokens, "thinking: nothing masked")
        p.accept(1)
        p.accept(7)  // "</think>\n{": ends the thought and starts the answer
        #expect(Self.allowed(p) == ["}"])
    }

    @Test func qwen3WithoutThinkingIsConstrainedFromTheStart() throws {
        let p = try Self.processor(.qwen3)
        p.accept(3)
        #expect(Self.allowed(p) == ["}"])
    }

    @Test func deepSeekR1StartsThinking() throws {
        let p = try Self.processor(.deepseekR1)
        #expect(Self.allowed(p) == Self.tokens)
        p.accept(6)
        p.accept(2)
        #expect(Self.allowed(p) == ["{"])
    }
}
