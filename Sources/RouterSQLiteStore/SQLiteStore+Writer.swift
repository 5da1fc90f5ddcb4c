import DomainRouter
import GRDB
import RouterEngine
import RouterProtocol
import Synchronization

/// The writer: changes queue in the `DraftWriter`; its loop (in `run()`) drafts each run (up to
/// `commitLimit` changes) on the table, and GRDB's writer connection writes its events and
/// history in one transaction; only after the commit are they applied to the table and
/// answered. While one run's transaction runs, the writer drafts the next on it.
extension SQLiteStore: DraftCommitter {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    package func enqueue(_ steps: [DraftStep], principal: String, peer: String,
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        writer.enqueue(steps, principal: principal, peer: peer, completion: completion)
    }

    package var location: String { "the state file \(path)" }

    package func draft(_ run: [Pending], after pending: PendingEvents) -> Draft? {
        let (steps, refusals) = withoutHeldNames(run.map(\.step), now: table.clock.now(), after: pending)
        var draft = table.draft(steps, after: pending, keep: true)
        for (index, refusal) in refusals { draft.outcomes[index] = refusal.outcome(draft.outcomes[index]) }
        return draft
    }

    package func submit(_ draft: Draft, of run: [Pending], after pending: PendingEvents,
                        following previous: Commit?) async -> Commit {
        // What each key held before this run's changes to it, for the history: the table's
        // route, unless a run still being written changed it. Looked up here, where the table
        // stands still, and only for keys a change replaces or removes (a bulk load has none).
        var before: [String: Route?] = [:]
        if draft.events.contains(where: { $0.kind != .add }) {
            var replaced = Set(draft.events.lazy.filter { $0.kind != .add }.map(\.key))
            for event in pending.reversed() where replaced.contains(event.key) {
                before[event.key] = .some((event.kind == .add || event.kind == .update) ? event.route : nil)
                replaced.remove(event.key)
            }
            // The rest from the table, each key once (one pass: a run may expire thousands).
            for event in draft.events where replaced.contains(event.key) {
                if let kind = event.route?.kind { before[event.key] = .some(table.stored(key: event.key, kind: kind)) }
                replaced.remove(event.key)
            }
        }
        let commit = Commit()
        let rows = RunRows(draft, of: run, before: before)
        pool.asyncWriteWithoutTransaction { db in
            // Drafted on a run that did not commit: void.
            if let previous, !previous.committed {
                return commit.settle(.stale)
            }
            commit.settle(self.write(rows, in: db))
        }
        return commit
    }

    package func outcome(of commit: Commit) async -> CommitOutcome {
        await commit.settled()
    }

    /// Nothing to catch up with: this daemon is the file's only writer.
    package func recover() async {}

    /// Answers a run on the answering queue, so that the writer goes on to the next run while
    /// the replies are written; runs are answered in the order they were committed.
    package func answer(_ run: [Pending], _ outcomes: [DraftOutcome]) {
        answers.async {
            for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
        }
    }

    /// Writes a drafted run's routes and history in one transaction, on the writer connection.
    func write(_ rows: RunRows, in db: Database) -> CommitOutcome {
        let at = table.clock.now().millisecondsSinceEpoch
        var released: [String: HeldName] = [:]
        var reclaimed: [String] = []
        do {
            try db.inTransaction(.immediate) {
                let upsert = try BoundStatement("INSERT OR REPLACE INTO routes (key, record) VALUES (?, ?)", in: db)
                let remove = try BoundStatement("DELETE FROM routes WHERE key = ?", in: db)
                let hold = try BoundStatement("INSERT OR REPLACE INTO holds (key, owner, until) VALUES (?, ?, ?)", in: db)
                let unhold = try BoundStatement("DELETE FROM holds WHERE key = ?", in: db)
                // The holds as the runs written before this one left them.
                let held = state.withLock { $0.holds }
                let record = try BoundStatement("""
                    INSERT INTO history (revision, at, kind, key, owner, tunnel, principal, peer, before, after)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, in: db)
                let until = at + holdReleased.milliseconds
                try rows.bytes.withUnsafeBufferPointer { bytes in
                    func text(_ span: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[span]) }
                    for row in rows.rows {
                        // A route that lapsed (TTL, or its session's grace) leaves its name held
                        // for its owner (a delete keeps nothing); a route added under a held name
                        // ends the hold.
                        let holds = row.stored == nil && row.kind == .expire && holdReleased > .zero
                        let reclaims = row.stored != nil && (held[row.key] != nil || released[row.key] != nil)
                        if let stored = row.stored {
                            upsert.bind(1, text(row.keyText))
                            upsert.bind(2, text(stored))
                            try upsert.run()
                            if reclaims {
                                unhold.bind(1, text(row.keyText))
                                try unhold.run()
                            }
                        } else {
                            remove.bind(1, text(row.keyText))
                            try remove.run()
                            if holds {
                                hold.bind(1, text(row.keyText))
                                hold.bind(2, text(row.ownerText))
                                hold.bind(3, until)
                                try hold.run()
                            }
                        }
                        record.bind(1, row.revision)
                        record.bind(2, at)
                        record.bind(3, text(row.kindText))
                        record.bind(4, text(row.keyText))
                        record.bind(5, text(row.ownerText))
                        record.bind(6, text(row.tunnel))
                        record.bind(7, text(row.principal))
                        record.bind(8, text(row.peer))
                        if let previous = row.previous { record.bind(9, text(previous)) } else { record.bindNull(9) }
                        if let stored = row.stored { record.bind(10, text(stored)) } else { record.bindNull(10) }
                        try record.run()
                        if reclaims {
                            reclaimed.append(row.key)
                            released[row.key] = nil
                        }
                        if holds {
                            released[row.key] = HeldName(key: row.key, owner: row.owner,
                                                         until: Timestamp(millisecondsSinceEpoch: until))
                        }
                    }
                }
                try db.execute(sql: "UPDATE meta SET value = ? WHERE name = 'revision'",
                               arguments: [String(rows.revision)])
                return .commit
            }
        } catch {
            let problem = "the state file \(path) could not be written: \(error)"
            state.withLock { $0.problem = problem }
            logger.error("state file write failed", metadata: ["db": "\(path)", "error": "\(error)"])
            return .failed(.unavailable(problem + "; nothing was changed"))
        }
        state.withLock { s in
            s.problem = nil
            for key in reclaimed { s.holds[key] = nil }
            for (key, name) in released { s.holds[key] = name }
        }
        return .committed
    }

    /// What a step refused for held names answers instead of what its draft said.
    enum HeldRefusal {
        /// Adds of a run refused one by one: positions in the step's requests, and why.
        case adds([Int: RouteError])
        /// An atomic batch refused whole.
        case batch(BatchFailure)

        func outcome(_ drafted: DraftOutcome) -> DraftOutcome {
            switch self {
            case .batch(let failure):
                return .batch(.failure(failure))
            case .adds(let refused):
                guard case .added(let results) = drafted else { return drafted }
                var merged: [Result<AddResult, RouteError>] = []
                var next = results.makeIterator()
                for index in 0..<(results.count + refused.count) {
                    if let error = refused[index] { merged.append(.failure(error)) } else if let result = next.next() { merged.append(result) }
                }
                return .added(merged)
            }
        }
    }

    /// `steps` with the adds of names held for another owner taken out (a non-admin's; an
    /// admin may take a held name), and what those steps answer instead. `pending` are the
    /// events of runs still being written: their expiries hold names, their adds end holds.
    func withoutHeldNames(_ steps: [DraftStep], now: Timestamp, after pending: PendingEvents = [[RouteEvent]]().joined()) -> ([DraftStep], [Int: HeldRefusal]) {
        guard holdReleased > .zero else { return (steps, [:]) }
        var holds = state.withLock { $0.holds }
        let table = self.table
        let hold = holdReleased.milliseconds
        var decided: Set<String> = []
        for event in pending {
            decided.insert(event.key)
            switch event.kind {
            case .expire:
                if let route = event.route {
                    holds[event.key] = HeldName(key: event.key, owner: route.owner,
                                                until: Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + hold))
                }
            case .add, .update:
                holds[event.key] = nil
            default:
                break
            }
        }
        func refusal(_ request: AddRequest, _ principal: Principal) -> RouteError? {
            guard case .key(let key) = request.name, let kind = key.kind else { return nil }
            let text = key.description
            if let held = holds[text], held.until > now, held.owner != principal.name {
                return .conflict(.held(text, until: held.until, owner: nil))
            }
            // A route whose TTL ran out a moment ago, not yet swept: its name is as good as held
            // (unless a run being written changed it since).
            if !decided.contains(text), let route = table.stored(key: text, kind: kind), let expires = route.expiresAt,
               expires <= now, route.owner != principal.name {
                return .conflict(.held(text, until: Timestamp(millisecondsSinceEpoch: expires.millisecondsSinceEpoch + hold), owner: nil))
            }
            return nil
        }
        var steps = steps
        var refusals: [Int: HeldRefusal] = [:]
        for (index, step) in steps.enumerated() {
            switch step {
            case .add(let requests, let principal) where !principal.isAdmin:
                var kept: [AddRequest] = []
                var refused: [Int: RouteError] = [:]
                for (position, request) in requests.enumerated() {
                    if let error = refusal(request, principal) { refused[position] = error } else { kept.append(request) }
                }
                if !refused.isEmpty {
                    steps[index] = .add(kept, principal)
                    refusals[index] = .adds(refused)
                }
            case .batch(let operations, let principal) where !principal.isAdmin:
                for (position, operation) in operations.enumerated() {
                    if case .add(let request) = operation, let error = refusal(request, principal) {
                        steps[index] = .batch([], principal)
                        refusals[index] = .batch(BatchFailure(index: position, error: error))
                        break
                    }
                }
            default:
                break
            }
        }
        return (steps, refusals)
    }

    /// Drops history older than the retention, and all but its newest rows.
    func prune() {
        let now = table.clock.now()
        state.withLock { s in s.holds = s.holds.filter { $0.value.until > now } }
        let cutoff = now.millisecondsSinceEpoch - retention.age.milliseconds
        let rows = retention.rows
        pool.asyncWriteWithoutTransaction { db in
            do {
                // Oldest first, a slice at a time (times rise with revisions): no scan of the
                // whole history, and no long hold of the writer.
                repeat {
                    try db.execute(sql: """
                        DELETE FROM history WHERE revision IN (SELECT revision FROM history ORDER BY revision LIMIT 5000) AND at < ?
                        """, arguments: [cutoff])
                } while db.changesCount == 5000
                try db.execute(sql: "DELETE FROM history WHERE revision <= (SELECT revision FROM history ORDER BY revision DESC LIMIT 1 OFFSET ?)",
                               arguments: [rows])
                try db.execute(sql: "DELETE FROM holds WHERE until <= ?", arguments: [self.table.clock.now().millisecondsSinceEpoch])
                // Tokens of sessions whose routes are gone resume nothing.
                let tickets = try Row.fetchAll(db, sql: "SELECT token, session FROM tickets")
                for ticket in tickets where !self.table.holdsRoutes(session: UInt64(ticket[1] as Int64)) {
                    try db.execute(sql: "DELETE FROM tickets WHERE token = ?", arguments: [ticket[0] as String])
                }
            } catch {
                self.logger.warning("history pruning failed", metadata: ["db": "\(self.path)", "error": "\(error)"])
            }
        }
    }
}


extension SQLiteStore {
    /// A run's transaction, queued on GRDB's writer: settled once when it has run.
    package final class Commit: Sendable {
        private let state = Mutex<(outcome: CommitOutcome?, waiter: CheckedContinuation<CommitOutcome, Never>?)>((nil, nil))

        /// Whether it ran and committed. (Read by the next run's transaction, which GRDB runs
        /// after this one.)
        var committed: Bool {
            state.withLock { s in
                if case .committed? = s.outcome { return true }
                return false
            }
        }

        func settle(_ outcome: CommitOutcome) {
            let waiter = state.withLock { s in
                s.outcome = outcome
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: outcome)
        }

        /// Waits until it has run.
        func settled() async -> CommitOutcome {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { s -> CommitOutcome? in
                    if let outcome = s.outcome { return outcome }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
