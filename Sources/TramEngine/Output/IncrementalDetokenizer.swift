public import TramTokenizer

/// One request's output side: takes each sampled token id, decides whether the request is
/// finished, and returns the text to stream. It owns the request's streaming decoder (which
/// never emits half a UTF-8 character) and its stop checks, in vLLM's order
/// (`vllm/v1/core/sched/utils.py check_stop`, `vllm/v1/engine/detokenizer.py`):
///
/// 1. while the output has fewer than `minTokens` tokens nothing stops it (but `maxTokens`);
/// 2. EOS (unless `ignoreEOS`) → `.stop`, no stop reason; a `stopTokenIDs` member → `.stop`
///    with the id. The stop token's text is not decoded unless `includeStopStrInOutput`;
/// 3. `maxTokens` reached → `.length`;
/// 4. stop strings, searched only in text decoded after the first `minTokens` tokens, matched
///    across token boundaries; a match wins over 2 and 3, truncates the output before the
///    string (or after it with `includeStopStrInOutput`) and stops with the string.
///
/// Streaming holds back the shortest tail that could still grow into a stop string:
///
///     text:  [ emitted ......... | held back: a proper prefix of a stop string ]
///            e.g. stop "\n\nUser:", text "Sure.\n\n" → "Sure." is out, "\n\n" waits
///
/// Invariant: the concatenation of every returned delta equals `text`, and once finished,
/// `text` is the final output text.
public struct IncrementalDetokenizer: Sendable {
    public let parameters: SamplingParameters
    private let eosTokenIDs: Set<Int>
    private let stopTokenIDs: Set<Int>
    private let maxTokens: Int
    private let stops: StopStrings
    private var decoder: StreamingDecoder
    /// [decoded output] in code points; truncated when a stop string matches.
    private var scalars: [Unicode.Scalar] = []
    /// How many of `scalars` have been returned in deltas.
    private var emitted = 0
    public private(set) var outputTokenIDs: [Int] = []
    public private(set) var finish: Finish?

    /// - Parameters:
    ///   - eosTokenIDs: the model's EOS ids (tokenizer and generation_config).
    ///   - maxTokens: the output limit the caller resolved (e.g. `parameters.maxTokens` capped by
    ///     the room left in the context); nil takes `parameters.maxTokens`, and nil there means
    ///     no limit here.
    public init(tokenizer: Tokenizer, parameters: SamplingParameters, eosTokenIDs: Set<Int>, maxTokens: Int? = nil) {
        self.parameters = parameters
        self.eosTokenIDs = parameters.ignoreEOS ? [] : eosTokenIDs
        stopTokenIDs = Set(parameters.stopTokenIDs)
        self.maxTokens = maxTokens ?? parameters.maxTokens ?? Int.max
        stops = StopStrings(parameters.stop)
        decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: parameters.skipSpecialTokens)
    }

    /// The output text streamed so far; the final output text once `finish` is set.
    public var text: String { Self.string(scalars[..<emitted]) }

    public var isFinished: Bool { finish != nil }

    /// Adds one sampled token; returns the text that may now be streamed and, when this token
    /// ends the request, the finish.
    public mutating func append(_ tokenID: Int) -> OutputDelta {
        precondition(finish == nil, "append after the request finished")
        outputTokenIDs.append(tokenID)
        let count = outputTokenIDs.count
        var end: Finish?
        if count >= parameters.minTokens {
            if eosTokenIDs.contains(tokenID) {
                end = Finish(reason: .stop)
            } else if stopTokenIDs.contains(tokenID) {
                end = Finish(reason: .stop, stopReason: .tokenID(tokenID))
            }
        }
        let before = scalars.count
        if end == nil || parameters.includeStopStrInOutput {
            scalars.append(contentsOf: decoder.push(tokenID).unicodeScalars)
        }
        if end == nil, count >= maxTokens { end = Finish(reason: .length) }
        if end != nil { scalars.append(contentsOf: decoder.flush().unicodeScalars) }
        if !stops.isEmpty, count > parameters.minTokens, let match = stops.firstMatch(in: scalars, endingAfter: before) {
            let cut = match.start + (parameters.includeStopStrInOutput ? stops.strings[match.which].count : 0)
            scalars.removeSubrange(cut...)
            end = Finish(reason: .stop, stopReason: .string(stops.originals[match.which]))
        }
        finish = end
        return OutputDelta(text: emit(final: end != nil), finish: end)
    }

    /// Ends the request from outside (client gone, cancelled): returns what was held back.
    public mutating func abort() -> OutputDelta {
        guard finish == nil else { return OutputDelta(text: "", finish: nil) }
        scalars.append(contentsOf: decoder.flush().unicodeScalars)
        let end = Finish(reason: .abort)
        finish = end
        return OutputDelta(text: emit(final: true), finish: end)
    }

    private mutating func emit(final: Bool) -> String {
        let holdBack = final || parameters.includeStopStrInOutput ? 0 : stops.holdBack(scalars)
        let upTo = max(emitted, scalars.count - holdBack)
        let delta = Self.string(scalars[emitted..<upTo])
        emitted = upTo
        return delta
    }

    /// The text of `scalars`, encoded in one pass into scratch on the stack (a delta of up to 15
    /// UTF-8 bytes, most of them, becomes a small string: no allocation).
    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        if scalars.isEmpty { return "" }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scalars.count * 4) { buffer in
            var count = 0
            for scalar in scalars {
                UTF8.encode(scalar) { byte in
                    buffer[count] = byte
                    count += 1
                }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }
}

/// What one appended token produced for the client.
public struct OutputDelta: Sendable, Equatable {
    /// Text to stream now; often empty (an incomplete character, or text held back because it
    /// could be the start of a stop string).
    public var text: String
    /// Set on the token that ends the request.
    public var finish: Finish?

    public init(text: String, finish: Finish?) {
        self.text = text
        self.finish = finish
    }
}
