import Synchronization
import Testing
@testable import RouterEngine

/// One load at a time: callers arriving meanwhile share the run under way.
@Suite("Single flight")
struct SingleFlightTests {
    struct LoadFailed: Error {}

    /// A run that goes on only when `release` is called, with how many runs started.
    final class HeldRun: Sendable {
        let started = Mutex(0)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func operation(failing: Bool) async throws {
            started.withLock { $0 += 1 }
            await withCheckedContinuation { held in gate.withLock { $0 = held } }
            if failing { throw LoadFailed() }
        }

        /// Waits until the run is held, then lets it finish.
        func release() async {
            while true {
                if let held = gate.withLock({ $0 }) { return held.resume() }
                await Task.yield()
            }
        }
    }

    func race(failing: Bool) async -> [Bool] {
        let flight = SingleFlight()
        let run = HeldRun()
        return await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 {
                group.addTask { (try? await flight.run { try await run.operation(failing: failing) }) != nil }
            }
            // The two others wait for the first, which is held until then.
            let deadline = ContinuousClock.now + .seconds(30)
            while flight.waiting < 2 {
                if ContinuousClock.now > deadline {
                    Issue.record("callers did not wait for the run under way")
                    break
                }
                await Task.yield()
            }
            #expect(run.started.withLock { $0 } == 1)
            await run.release()
            var outcomes: [Bool] = []
            for await outcome in group { outcomes.append(outcome) }
            #expect(run.started.withLock { $0 } == 1)
            return outcomes
        }
    }

    @Test func callersArrivingDuringARunShareItInsteadOfRunningAgain() async {
        #expect(await race(failing: false) == [true, true, true])
    }

    @Test func callersArrivingDuringARunThatFailsFailWithIt() async {
        #expect(await race(failing: true) == [false, false, false])
    }

    @Test func aCallerAfterTheRunRunsAgain() async throws {
        let flight = SingleFlight()
        let runs = Mutex(0)
        try await flight.run { runs.withLock { $0 += 1 } }
        try await flight.run { runs.withLock { $0 += 1 } }
        #expect(runs.withLock { $0 } == 2)
    }
}
