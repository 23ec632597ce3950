/// Reasoning read out of a model's text, as vLLM's reasoning parsers do
/// (`--reasoning-parser`): the thinking between `<think>` and `</think>` goes to
/// `message.reasoning` (and `reasoning_content`, its older name), the rest to `content`.
///
/// - `deepseek_r1`: the output starts in reasoning (its template may put `<think>` in the
///   prompt; a `<think>` the model writes itself is dropped) and reasoning ends at `</think>`;
///   an output that never closes it is all reasoning.
/// - `qwen3`: reasoning only when the output opens with `<think>` (Qwen3 with thinking off
///   writes none); it ends at `</think>`.
///
/// Tags split across pieces of a stream are held back until they are known.
public struct ReasoningParser: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case deepseekR1 = "deepseek_r1"
        case qwen3
    }

    static let open = "<think>"
    static let close = "</think>"

    private let kind: Kind
    private var pending = ""
    private enum Phase { case start, reasoning, content }
    private var phase = Phase.start
    /// Right after `</think>`: newlines before the answer are dropped.
    private var afterThought = false

    public init(_ kind: Kind) {
        self.kind = kind
    }

    /// Whether the reasoning is over (what follows is the answer).
    public var isAnswering: Bool { phase == .content }
    /// Whether the output is inside its reasoning.
    public var isThinking: Bool { phase == .reasoning }

    /// The next piece of output as (reasoning, content) text.
    public mutating func feed(_ text: String) -> (reasoning: String, content: String) {
        pending += text
        var reasoning = "", content = ""
        while true {
            switch phase {
            case .start:
                let trimmed = pending.drop { $0.isWhitespace }
                if trimmed.hasPrefix(Self.open) {
                    pending = String(trimmed.dropFirst(Self.open.count))
                    phase = .reasoning
                } else if Self.open.hasPrefix(String(trimmed)) {
                    return (reasoning, content)  // maybe the tag, not known yet
                } else {
                    phase = kind == .deepseekR1 ? .reasoning : .content
                }
            case .reasoning:
                if let r = pending.firstRange(of: Self.close) {
                    reasoning += pending[..<r.lowerBound]
                    pending = String(pending[r.upperBound...])
                    phase = .content
                    afterThought = true
                    continue
                }
                let keep = pending.partialSuffix(of: Self.close)
                reasoning += pending.dropLast(keep)
                pending = String(pending.suffix(keep))
                return (reasoning, content)
            case .content:
                if afterThought {
                    pending = String(pending.drop { $0 == "\n" })
                    if pending.isEmpty { return (reasoning, content) }
                    afterThought = false
                }
                content += pending
                pending = ""
                return (reasoning, content)
            }
        }
    }

    /// The output ended: what was held back.
    public mutating func finish() -> (reasoning: String, content: String) {
        defer { pending = "" }
        switch phase {
        case .start: return kind == .deepseekR1 ? (pending, "") : ("", pending)
        case .reasoning: return (pending, "")
        case .content: return ("", pending)
        }
    }

    /// The whole output at once: (reasoning or nil, content or nil).
    public mutating func parse(_ text: String) -> (reasoning: String?, content: String?) {
        let a = feed(text), b = finish()
        let reasoning = a.reasoning + b.reasoning, content = a.content + b.content
        return (reasoning.isEmpty ? nil : reasoning, content.isEmpty ? nil : content)
    }
}
