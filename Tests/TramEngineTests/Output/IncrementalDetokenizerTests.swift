import TramRandom
import Foundation
import Testing
import TramEngine
import TramTokenizer

@Suite struct IncrementalDetokenizerTests {
    /// Everything one request produced: the deltas in order and the finish.
    struct Run {
        var deltas: [String] = []
        var finish: Finish?
        var finalText = ""
        /// For each appended token: the full decode of the tokens so far.
        var decodedSoFar: [String] = []
        var joined: String { deltas.joined() }
    }

    /// Feeds `ids` as the engine does: the scheduler's request (built from `p` by the production
    /// mapping) decides token-level stops, the detokenizer gets each token with that verdict.
    func run(_ ids: [Int], _ p: SamplingParameters, eos: Set<Int> = [0], maxTokens: Int? = nil) throws -> Run {
        let tokenizer = try SmolLM2Tokenizer.get()
        var d = IncrementalDetokenizer(tokenizer: tokenizer, parameters: p)
        var request = SchedulerRequest(id: "t", promptTokenIDs: [1], parameters: p, eosTokenIDs: eos, maxTokens: maxTokens ?? p.maxTokens ?? Int.max)
        var r = Run()
        for (i, id) in ids.enumerated() {
            let delta = d.append(id, finish: request.append(Int32(id), maxModelLen: Int.max)?.finish)
            r.deltas.append(delta.text)
            r.decodedSoFar.append(tokenizer.decode(Array(ids[...i]), skipSpecialTokens: p.skipSpecialTokens))
            if let f = delta.finish {
                r.finish = f
                break
            }
        }
        r.finalText = d.text
        #expect(r.finish == d.finish)
        #expect(scalars(r.joined) == scalars(r.finalText), "concatenated deltas == final text")
        return r
    }

    func encode(_ text: String) throws -> [Int] {
        try SmolLM2Tokenizer.get().encode(text, addSpecialTokens: false)
    }

    func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    @Test func stopStringIsHeldBackAndCutAcrossTokens() throws {
        let ids = try encode("Sure, here it is.\n\nUser: thanks")
        let r = try run(ids, SamplingParameters(maxTokens: nil, stop: ["\n\nUser:"]))
        #expect(r.finalText == "Sure, here it is.")
        #expect(r.finish == Finish(reason: .stop, stopReason: .string("\n\nUser:")))
        #expect(!r.joined.contains("\n"), "no part of the stop string was ever streamed")
        #expect(r.deltas.count < ids.count, "finished on the token completing the stop string")
    }

    /// Text that only looks like the start of a stop string is released once it cannot be one,
    /// and at every step exactly the longest stop-string prefix at the end is held back.
    @Test func partialStopPrefixIsReleasedWhenItDiverges() throws {
        let text = "A list:\n\nUse it well.\n\nUs"
        let ids = try encode(text)
        let stop = "\n\nUser:"
        let r = try run(ids, SamplingParameters(maxTokens: ids.count, stop: [stop]))
        #expect(r.finish == Finish(reason: .length))
        #expect(r.finalText == text, "finishing releases the held tail")
        var streamed = ""
        for (i, delta) in r.deltas.enumerated().dropLast() {
            streamed += delta
            let full = r.decodedSoFar[i]
            #expect(full.hasPrefix(streamed))
            let held = String(full.unicodeScalars.dropFirst(streamed.unicodeScalars.count))
            // The held tail is the longest suffix that is a proper prefix of the stop string.
            let longest = (0..<stop.unicodeScalars.count).last { k in
                full.unicodeScalars.count >= k && full.unicodeScalars.suffix(k).elementsEqual(stop.unicodeScalars.prefix(k))
            } ?? 0
            #expect(held.unicodeScalars.count == longest, "step \(i): held \(held.debugDescription) of \(full.debugDescription)")
        }
    }

    @Test func includeStopStrInOutputKeepsTheStopStringAndDropsWhatFollows() throws {
        let ids = try encode("Sure.\n\nUser: thanks")
        let r = try run(ids, SamplingParameters(maxTokens: nil, stop: ["\n\nUser:"], includeStopStrInOutput: true))
        #expect(r.finalText == "Sure.\n\nUser:")
        #expect(r.finish == Finish(reason: .stop, stopReason: .string("\n\nUser:")))
    }

    @Test func stopStringInsideOneTokenAndAcrossTwo() throws {
        // "lo wor" spans "Hello" and " world".
        let r = try run(try encode("Hello world, again"), SamplingParameters(maxTokens: nil, stop: ["lo wor"]))
        #expect(r.finalText == "Hel" && r.finish?.stopReason == .string("lo wor"))
        // "ell" sits inside one token.
        let inside = try run(try encode("Hello world"), SamplingParameters(maxTokens: nil, stop: ["ell"]))
        #expect(inside.finalText == "H" && inside.deltas.count == 1)
    }

    @Test func theStopStringCompletedFirstWins() throws {
        let r = try run(try encode("one two three four"), SamplingParameters(maxTokens: nil, stop: [" four", "two", " t"]))
        #expect(r.finalText == "one" && r.finish?.stopReason == .string(" t"))
    }

    @Test func stopTokenIDEndsWithTheIDAsReasonAndNoText() throws {
        let tokenizer = try SmolLM2Tokenizer.get()
        let imEnd = try #require(tokenizer.tokenID(for: "<|im_end|>"))
        let head = try encode("Hi there")
        let ids = head + [imEnd] + (try encode(" more"))
        let p = SamplingParameters(maxTokens: nil, stopTokenIDs: [imEnd], skipSpecialTokens: false)
        let r = try run(ids, p)
        #expect(r.finalText == "Hi there")
        #expect(r.finish == Finish(reason: .stop, stopReason: .tokenID(imEnd)))
        #expect(r.deltas.count == head.count + 1)
    }

    @Test func eosStopsOnlyAfterMinTokensAndNeverWithIgnoreEOS() throws {
        let ids = try encode("a b") + [0] + (try encode(" c")) + [0] + (try encode(" d"))
        let plain = try run(ids, SamplingParameters(maxTokens: nil))
        #expect(plain.finalText == "a b" && plain.finish == Finish(reason: .stop))
        // min_tokens 4: the first EOS (token 3) does not stop; the second (token 5) does.
        let min = try run(ids, SamplingParameters(maxTokens: nil, minTokens: 4))
        #expect(min.finalText == "a b c" && min.finish == Finish(reason: .stop) && min.deltas.count == 5)
        let ignore = try run(ids, SamplingParameters(maxTokens: nil, ignoreEOS: true), maxTokens: ids.count)
        #expect(ignore.finalText == "a b c d" && ignore.finish == Finish(reason: .length))
    }

    @Test func stopStringsWaitForMinTokens() throws {
        let ids = try encode("x. x. x. x.")
        #expect(ids.count >= 6)
        let early = try run(ids, SamplingParameters(maxTokens: nil, stop: ["x."]))
        #expect(early.finalText == "")
        // The first min_tokens tokens cannot stop the request, so the first "x." goes through.
        let late = try run(ids, SamplingParameters(maxTokens: nil, minTokens: 2, stop: ["x."]))
        #expect(late.finalText.hasPrefix("x.") && late.finish?.stopReason == .string("x."))
        #expect(late.finalText.count < "x. x. x. x.".count)
    }

    @Test func maxTokensEndsWithLength() throws {
        let ids = try encode("one two three four five")
        let r = try run(ids, SamplingParameters(maxTokens: 3))
        #expect(r.finish == Finish(reason: .length) && r.deltas.count == 3)
        #expect(r.finalText == (try SmolLM2Tokenizer.get()).decode(Array(ids.prefix(3))))
    }

    @Test func emojiSplitAcrossTokensIsNeverEmittedInHalves() throws {
        let text = "I 😀 you 🇫🇷 ok"
        let ids = try encode(text)
        #expect(ids.count > text.split(separator: " ").count, "the emoji take several byte tokens")
        let r = try run(ids, SamplingParameters(maxTokens: nil))
        #expect(r.deltas.allSatisfy { !$0.unicodeScalars.contains("\u{FFFD}") })
        #expect(r.deltas.contains(""), "some token ended inside a character")
        #expect(scalars(r.finalText) == scalars(text))
    }

    @Test func abortReleasesTheHeldTail() throws {
        let tokenizer = try SmolLM2Tokenizer.get()
        var d = IncrementalDetokenizer(tokenizer: tokenizer, parameters: SamplingParameters(stop: ["\n\nUser:"]))
        var streamed = ""
        for id in try encode("Done.\n\n") { streamed += d.append(id, finish: nil).text }
        #expect(streamed == "Done.")
        let end = d.abort()
        #expect(end.text == "\n\n" && end.finish == Finish(reason: .abort))
        #expect(d.text == "Done.\n\n" && d.isFinished)
    }

    /// Random word soups with one stop string: the final text is the decode up to the first
    /// occurrence, and the deltas always concatenate to it.
    @Test(arguments: 0..<30)
    func randomTextsStopAtTheFirstOccurrence(seed: Int) throws {
        let words = ["the", " cat", " sat", "\n", "\n\n", "User", ":", " on", " mat", "é", "😀", " é", "e\u{301}", ".", " the"]
        var g = Xoshiro256(seed: UInt64(seed))
        let text = (0..<25).map { _ in words[Int(g.next() % UInt64(words.count))] }.joined()
        let stops = ["\n\nUser:", " the", "t s", "😀 ", ".\n", "e\u{301}"]
        let stop = stops[Int(g.next() % UInt64(stops.count))]
        let ids = try encode(text)
        let r = try run(ids, SamplingParameters(maxTokens: nil, stop: [stop]), maxTokens: ids.count)
        let full = scalars(try SmolLM2Tokenizer.get().decode(ids))
        let s = scalars(stop)
        let first = full.count < s.count ? nil : (0...(full.count - s.count)).first { full[$0..<($0 + s.count)].elementsEqual(s) }
        if let first {
            #expect(scalars(r.finalText) == Array(full[..<first]))
            #expect(r.finish == Finish(reason: .stop, stopReason: .string(stop)))
        } else {
            #expect(scalars(r.finalText) == full)
            #expect(r.finish == Finish(reason: .length))
        }
    }
}
