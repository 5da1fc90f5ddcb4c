import DequeModule
import DomainRouter
import Synchronization

/// The one writer of a store that drafts changes and commits them elsewhere (the state file,
/// Redis, etcd). Changes queue here from any thread (`enqueue`); one loop, run by the store's
/// `Service.run` (`run(_:)`), takes them in runs of up to `limit` changes, in the order they
/// were queued, drafts each run on the table and hands it to the store to commit, and once
/// the store has committed it applies its events to the table and answers every change of the
/// run exactly once.
///
/// **Pipelined**: while a run commits, the next is drafted on the table as it will be once the
/// committing run's events are in (`RouteTable.draft(_:after:)`) and handed to the store too,
/// which must commit it only if the run before it commits. Runs are answered in order. A store
/// may keep its drafts in the table, hidden, until they commit (`draft(_:after:keep:)`): the
/// writer's `replicate` of a committed run's events commits them, and a run that does not
/// commit takes them out (`abandonDrafts()`). When a commit does not go through, every run
/// drafted after it is void: the store says so (stale),
/// the writer lets the ones under way finish, asks the store to bring the table up to date
/// (`DraftCommitter.recover()`), and drafts the stale runs again, in their order, before
/// anything queued after them.
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

    /// A run on its way: drafted, and (unless its draft changes nothing) handed to the store.
    private struct InFlight<Commit> {
        var run: Run
        var draft: Draft
        var commit: Commit?
    }

    /// Queued changes taken together, and how often they were drafted and found stale.
    private struct Run {
        var changes: [Pending]
        var attempts = 0
    }

    /// Commits runs through `committer` until `finish()` has been called and everything queued
    /// before it is committed. At most `depth` runs are under way at once (one committing, the
    /// next drafted on it); a run found stale `attempts` times is refused with `unavailable`.
    package func run<Committer: DraftCommitter>(_ committer: Committer, depth: Int = 2, attempts: Int = 64) async {
        var flight = Deque<InFlight<Committer.Commit>>()
        var redo = Deque<Run>()
        var wakes = wakeups.makeAsyncIterator()
        // A run under way did not commit: those after it are void, and the table is brought up
        // to date before anything is drafted again.
        var broken = false
        while true {
            while flight.count < depth, !broken, let run = redo.popFirst() ?? nextRun().map({ Run(changes: $0) }) {
                // The runs under way, joined without copying their events.
                let pending = flight.map(\.draft.events).joined()
                guard let draft = committer.draft(run.changes, after: pending) else { continue }
                var entry = InFlight<Committer.Commit>(run: run, draft: draft, commit: nil)
                if !draft.events.isEmpty {
                    let previous = flight.last(where: { $0.commit != nil })?.commit
                    entry.commit = await committer.submit(draft, of: run.changes, after: pending, following: previous)
                }
                flight.append(entry)
            }
            guard let oldest = flight.popFirst() else {
                if !redo.isEmpty || waiting > 0 { continue }
                if await wakes.next() == nil, waiting == 0 { return }
                continue
            }
            // A draft that changes nothing stands if every run before it committed.
            let outcome = if let commit = oldest.commit { await committer.outcome(of: commit) } else { broken ? CommitOutcome.stale : .committed }
            switch outcome {
            case .committed:
                // A gap: the table is behind the store, whose catch-up brings every change
                // (this run's too) in order.
                if case .gap = committer.table.replicate(oldest.draft.events) { broken = true }
                committer.answer(oldest.run.changes, oldest.draft.outcomes)
            case .stale:
                broken = true
                var again = oldest.run
                again.attempts += 1
                if again.attempts < attempts {
                    redo.append(again)
                } else {
                    let error = RouteError.unavailable("the route store (\(committer.location)) kept changing under this change (\(again.attempts) drafts); nothing was changed: try again")
                    committer.answer(again.changes, again.changes.map { $0.step.failure(error) })
                }
            case .failed(let error):
                broken = true
                committer.answer(oldest.run.changes, oldest.run.changes.map { $0.step.failure(error) })
            }
            // Drafts the table kept for the runs after it are void with it.
            if broken { committer.table.abandonDrafts() }
            if flight.isEmpty && broken {
                await committer.recover()
                broken = false
            }
        }
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

/// The events of the runs still under way, in order: each run's as drafted, joined (not copied).
package typealias PendingEvents = FlattenSequence<[[RouteEvent]]>

/// What a store does with the runs its `DraftWriter` takes, in order: drafts each on its table,
/// starts its commit, and reports how the commit went.
package protocol DraftCommitter: Sendable {
    /// A run's commit under way in the store.
    associatedtype Commit: Sendable

    /// The table the store drafts on and the writer applies committed runs to.
    var table: RouteTable { get }
    /// The store, as messages name it ("the state file /var/lib/…").
    var location: String { get }

    /// Drafts `run` on the table as it will be once `pending` (the events of runs still under
    /// way, in order) are committed; or answers the run at once and returns nil (a store known
    /// to be unreachable refuses it without a round trip).
    func draft(_ run: [DraftWriter.Pending], after pending: PendingEvents) -> Draft?

    /// Starts committing `draft` (of `run`, drafted after `pending`) and returns without waiting
    /// for the store. `previous` is the commit under way that `draft` was drafted on: the store
    /// must commit `draft` only if `previous` commits, and say `.stale` otherwise.
    func submit(_ draft: Draft, of run: [DraftWriter.Pending], after pending: PendingEvents,
                following previous: Commit?) async -> Commit

    /// How a submitted commit went, once the store says.
    func outcome(of commit: Commit) async -> CommitOutcome

    /// After a commit that did not go through and before anything is drafted again: brings the
    /// table up to date with the store (another writer's changes, a store loaded anew).
    func recover() async

    /// Answers each change of a run, in order: what its draft said once committed, or why not.
    func answer(_ run: [DraftWriter.Pending], _ outcomes: [DraftOutcome])
}

extension DraftCommitter {
    /// Answers each change of a run, in order, on the writer's own thread (a store whose
    /// answers must wait for something else, such as the state file's, or that answers on
    /// another thread, such as Redis's, answers its own way).
    package func answer(_ run: [DraftWriter.Pending], _ outcomes: [DraftOutcome]) {
        for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
    }
}

/// How a run's commit went.
package enum CommitOutcome: Sendable {
    /// In the store: the writer applies its events and answers it.
    case committed
    /// The store moved on under the draft (another writer's change, or a run before it that
    /// did not commit): nothing was written; drafted again once the table is up to date.
    case stale
    /// Not written, for `error`, with which every change of the run is answered.
    case failed(RouteError)
}
