import RouterTestSupport
import Testing
@testable import RouterServer

/// The connection's state machine on its own: what it says to do for each event.
@Suite("Connection state machine")
struct ConnectionStateTests {
    @Test func framesWaitForTheGreeting() {
        var state = ConnectionState()
        let r1 = state.frameArrived(waiting: 0)
        #expect(r1 == .hold)
        state.greet()
        let r2 = state.frameArrived(waiting: 0)
        #expect(r2 == .handle)
        let r3 = state.frameArrived(waiting: 1)
        #expect(r3 == .hold, "behind frames already waiting")
    }

    @Test func aFullTableWriterHoldsFramesAndPausesReadingUntilItCatchesUp() {
        var state = ConnectionState()
        state.greet()
        for _ in 0..<ConnectionState.submittedRunLimit { state.runSubmitted() }
        #expect(!state.accepting)
        let r4 = state.frameArrived(waiting: 0)
        #expect(r4 == .hold)
        let r5 = state.frameArrived(waiting: ConnectionState.pendingReadLimit - 1)
        #expect(r5 == .holdAndPauseReading)
        #expect(state.readingPaused)
        let r6 = state.frameArrived(waiting: ConnectionState.pendingReadLimit)
        #expect(r6 == .hold, "paused once")
        let r7 = state.drained(waiting: ConnectionState.pendingReadLimit)
        #expect(!r7, "still too many waiting")
        let r8 = state.runAnswered()
        #expect(r8 == .drain)
        #expect(state.accepting)
        let r9 = state.drained(waiting: ConnectionState.pendingReadLimit / 2 - 1)
        #expect(r9)
        #expect(!state.readingPaused)
    }

    @Test func aFrameThatIsNotAnAddWaitsForEveryRunOut() {
        var state = ConnectionState()
        state.greet()
        let r10 = state.mustWaitForRuns()
        #expect(!r10, "nothing out")
        state.runSubmitted()
        state.runSubmitted()
        let r11 = state.mustWaitForRuns()
        #expect(r11)
        #expect(!state.accepting)
        let r12 = state.runAnswered()
        #expect(r12 == .drain)
        #expect(!state.accepting, "one run still out")
        let r13 = state.runAnswered()
        #expect(r13 == .drain)
        #expect(state.accepting)
    }

    @Test func aStoreOperationOutHoldsEveryLaterFrame() {
        var state = ConnectionState()
        state.greet()
        state.operationStarted()
        let r14 = state.frameArrived(waiting: 0)
        #expect(r14 == .hold)
        let r15 = state.operationFinished()
        #expect(r15 == .drain)
        let r16 = state.frameArrived(waiting: 0)
        #expect(r16 == .handle)
    }

    @Test func aClosedConnectionsSessionEndsOnlyOnceItsWorkIsIn() {
        var state = ConnectionState()
        state.greet()
        state.runSubmitted()
        state.operationStarted()
        let r17 = state.channelClosed()
        #expect(!r17, "work is out: the session waits")
        let r18 = state.runAnswered()
        #expect(r18 == .nothing)
        let r19 = state.operationFinished()
        #expect(r19 == .endSession)

        var idle = ConnectionState()
        idle.greet()
        let r20 = idle.channelClosed()
        #expect(r20, "nothing out: the session ends now")
        #expect(!idle.accepting)
    }

    @Test func shutdownWaitsForTheWorkOut() {
        var state = ConnectionState()
        state.greet()
        state.runSubmitted()
        let r21 = state.shutdownRequested()
        #expect(r21, "the first request stops reading")
        let r22 = state.shutdownRequested()
        #expect(!r22)
        let r23 = state.runAnswered()
        #expect(r23 == .continueShutdown)
        let r24 = state.drained(waiting: 0)
        #expect(!r24, "a stopping connection is not read again")
    }

    @Test func aHalfClosedConnectionIsIdleOnceEverythingIsAnswered() {
        var state = ConnectionState()
        state.greet()
        state.inputDidClose()
        #expect(!state.isIdle(waiting: 1, watching: false))
        #expect(!state.isIdle(waiting: 0, watching: true), "a watch keeps it open")
        state.streamStarted()
        #expect(!state.isIdle(waiting: 0, watching: false), "a list is streaming")
        let r25 = state.streamEnded()
        #expect(r25)
        let r26 = state.streamEnded()
        #expect(!r26)
        state.operationStarted()
        #expect(!state.isIdle(waiting: 0, watching: false))
        _ = state.operationFinished()
        #expect(state.isIdle(waiting: 0, watching: false))
    }
}
