import Testing
import TramEngine

@Suite struct StopStringsTests {
    func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    @Test func holdBackIsTheLongestSuffixThatStartsAStopString() {
        let stops = StopStrings(["\n\nUser:", "END"])
        #expect(stops.holdBack(scalars("Hi.\n\n")) == 2)
        #expect(stops.holdBack(scalars("Hi.\n\nUser")) == 6)
        #expect(stops.holdBack(scalars("Hi.\n")) == 1)
        #expect(stops.holdBack(scalars("Hi.")) == 0)
        #expect(stops.holdBack(scalars("THE EN")) == 2)
        #expect(stops.holdBack(scalars("")) == 0)
        // A whole stop string is a match, not a prefix to hold.
        #expect(StopStrings(["ab"]).holdBack(scalars("xab")) == 0)
    }

    @Test func matchesMustEndInTheNewText() {
        let stops = StopStrings(["abc", "cd"])
        let text = scalars("xxabcd")
        #expect(stops.firstMatch(in: text, endingAfter: 0)! == (2, 0))
        // Text before index 5 was searched already: only "cd" (ending at 6) is new.
        #expect(stops.firstMatch(in: text, endingAfter: 5)! == (4, 1))
        #expect(stops.firstMatch(in: text, endingAfter: 6) == nil)
        #expect(StopStrings(["é"]).firstMatch(in: scalars("e\u{301}"), endingAfter: 0) == nil, "code points, not graphemes")
    }
}
