import Foundation
import Testing
import TramServer

/// The close callback of a keep-alive connection outlives each request on it: what it holds
/// must be dropped when the request ends, and a hang-up must act once.
@Suite struct HangUpHookTests {
    final class Payload: @unchecked Sendable { var fired = 0 }

    @Test func clearingDropsWhatTheActionCaptured() {
        weak var weakPayload: Payload?
        let hook: HangUpHook
        do {
            let payload = Payload()
            weakPayload = payload
            hook = HangUpHook { payload.fired += 1 }
        }
        #expect(weakPayload != nil && hook.isArmed)
        hook.clear()
        #expect(weakPayload == nil, "a finished request's stream and task must not stay reachable from the connection")
        hook.fire()  // the connection closes later: nothing runs
        #expect(!hook.isArmed)
    }

    @Test func firesOnce() {
        let payload = Payload()
        let hook = HangUpHook { payload.fired += 1 }
        hook.fire()
        hook.fire()
        hook.clear()
        #expect(payload.fired == 1)
    }
}
