public import TramTokenizer

/// One request's output side: takes each sampled token id with the scheduler's verdict on it,
/// and returns the text to stream. It owns the request's streaming decoder (which never emits
/// half a UTF-8 character), stop strings and hold-back — and nothing else: token-level stops
/// (EOS, stop token ids, `max_tokens`, the context) are the scheduler's
/// (`SchedulerRequest.stop`, vLLM's `check_stop`), handed in with the token. As in vLLM's
/// `vllm/v1/engine/detokenizer.py`:
///
/// 1. a token the scheduler stopped on (EOS or a stop token id, `.stop`) is not decoded unless
///    `includeStopStrInOutput`; one that hit a length limit (`.length`) is;
/// 2. stop strings are searched only in text decoded after the first `minTokens` tokens,
///    matched across token boundaries; a match wins over the scheduler's verdict, truncates the
///    output before the string (or after it with `includeStopStrInOutput`) and stops with the
///    string (the engine then tells the scheduler).
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
    private let stops: StopStrings
    private var decoder: StreamingDecoder
    /// [decoded output] in code points; truncated when a stop string matches.
    private var scalars: [Unicode.Scalar] = []
    /// How many of `scalars` have been returned in deltas.
    private var emitted = 0
    public private(set) var outputTokenIDs: [Int] = []
    public private(set) var finish: Finish?

    public init(tokenizer: Tokenizer, parameters: SamplingParameters) {
        self.parameters = parameters
        stops = StopStrings(parameters.stop)
        decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: parameters.skipSpecialTokens)
    }

    /// The output text streamed so far; the final output text once `finish` is set.
    public var text: String { Self.string(scalars[..<emitted]) }

    public var isFinished: Bool { finish != nil }

    /// Adds one sampled token; returns the text that may now be streamed and, when this token
    /// ends the request, the finish.
    /// - Parameter scheduled: the scheduler's verdict on this token (`.stop` for EOS or a stop
    ///   token id, `.length` for a length limit), nil when the request goes on.
    public mutating func append(_ tokenID: Int, finish scheduled: Finish?) -> OutputDelta {
        precondition(finish == nil, "append after the request finished")
        outputTokenIDs.append(tokenID)
        let count = outputTokenIDs.count
        var end = scheduled
        let before = scalars.count
        if end?.reason != .stop || parameters.includeStopStrInOutput {
            scalars.append(contentsOf: decoder.push(tokenID).unicodeScalars)
        }
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
