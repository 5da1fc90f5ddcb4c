import Synchronization

/// One run of an operation at a time: a caller that arrives while it runs waits for that run
/// and shares its outcome instead of running it again (Go's `singleflight`, for one key). A
/// store's load is one: the follower and the writer's recovery may both find the replica
/// behind, and a second load would build a second table of the same routes beside the first.
package final class SingleFlight: Sendable {
    private struct State {
        var running = false
        var waiting: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Runs `operation`, or, while a run is under way, waits for it: returns when it succeeded,
    /// throws what it threw.
    package func run(_ operation: () async throws -> Void) async throws {
        let first = state.withLock { s -> Bool in
            defer { s.running = true }
            return !s.running
        }
        guard first else {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let over = state.withLock { s -> Bool in
                    guard s.running else { return true }
                    s.waiting.append(waiter)
                    return false
                }
                if over { waiter.resume() }
            }
            return
        }
        var failure: (any Error)?
        do { try await operation() } catch { failure = error }
        let waiting = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            defer { s = State() }
            return s.waiting
        }
        for waiter in waiting {
            if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
        }
        if let failure { throw failure }
    }

    /// Callers waiting for the run under way.
    package var waiting: Int { state.withLock { $0.waiting.count } }
}
