import DequeModule
import DomainRouter
import Synchronization

/// The one writer of a store that drafts changes and commits them elsewhere (the state file,
/// Redis). Changes queue here from any thread (`enqueue`); one loop, run by the store's
/// `Service.run` (`run(_:)`), takes them in runs of up to `limit` changes, in the order they
/// were queued, and hands each run to the store's commit, one at a time. The commit drafts the
/// run on the table, writes it, applies it and completes every change of the run exactly once
/// (`DraftStep.failure` answers a run that could not be written).
///
/// No task is started per write: a change that arrives while the loop waits wakes it, and one
/// that arrives while it commits is taken by the next run. `finish()` (graceful shutdown)
/// lets the loop commit what was queued before it, then return; a change queued after it is
/// refused at once with `unavailable`, so no completion is ever left uncalled.
package final class DraftWriter: Sendable {
    /// A change waiting for the writer: who asked for it (for the state file's history), and
    /// where its outcome goes.
    package struct Pending: Sendable {
        package var step: DraftStep
        package var principal: String
        package var peer: String
        package var complete: @Sendable (DraftOutcome) -> Void
    }

    private struct State {
        var pending = Deque<Pending>()
        var finished = false
    }

    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// The most changes one run takes (each add of a run of adds, each operation of a batch).
    package let limit: Int

    package init(limit: Int) {
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.limit = limit
    }

    /// Queues steps that must go in one draft, made by `principal` from `peer`; `completion`
    /// gets their outcomes in order once committed (or refused).
    package func enqueue(_ steps: [DraftStep], principal: String, peer: String,
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        let collected = OutcomeCollector(count: steps.count, completion: completion)
        let queued = state.withLock { s -> Bool in
            guard !s.finished else { return false }
            for (i, step) in steps.enumerated() {
                s.pending.append(Pending(step: step, principal: principal, peer: peer) { collected.set(i, $0) })
            }
            return true
        }
        guard queued else {
            let error = RouteError.unavailable("routerd is stopping; nothing was changed")
            for (i, step) in steps.enumerated() { collected.set(i, step.failure(error)) }
            return
        }
        wake.yield()
    }

    /// Changes queued and not yet taken by a run.
    package var waiting: Int { state.withLock { $0.pending.count } }

    /// Commits runs until `finish()` has been called and everything queued before it is
    /// committed. `commit` gets each run in order and completes every change in it.
    package func run(_ commit: ([Pending]) async -> Void) async {
        for await _ in wakeups {
            while let run = nextRun() { await commit(run) }
        }
        while let run = nextRun() { await commit(run) }
    }

    /// No more changes are taken: `run` commits what is queued, then returns.
    package func finish() {
        state.withLock { $0.finished = true }
        wake.finish()
    }

    /// The next run: queued changes in order, up to `limit` (at least one), or nil.
    private func nextRun() -> [Pending]? {
        state.withLock { s -> [Pending]? in
            guard !s.pending.isEmpty else { return nil }
            var run: [Pending] = []
            var size = 0
            while let next = s.pending.first, run.isEmpty || size + next.step.size <= limit {
                run.append(s.pending.removeFirst())
                size += next.step.size
            }
            return run
        }
    }
}
