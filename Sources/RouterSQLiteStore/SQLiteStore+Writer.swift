import DomainRouter
import GRDB
import RouterServer

/// The writer: changes queue up; GRDB's writer queue takes all that waits (up to
/// `commitLimit` changes), drafts it, writes its events and history in one transaction, and
/// only after the commit applies them to the table and answers.
extension SQLiteStore {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    package func enqueue(_ steps: [DraftStep], principal: String, peer: String,
                 completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        let collected = OutcomeCollector(count: steps.count, completion: completion)
        let start = state.withLock { s -> Bool in
            for (i, step) in steps.enumerated() {
                s.pending.append(Pending(step: step, principal: principal, peer: peer) { collected.set(i, $0) })
            }
            guard !s.writing else { return false }
            s.writing = true
            return true
        }
        guard start else { return }
        pool.asyncWriteWithoutTransaction { db in
            while let run = self.nextRun() {
                self.commit(run, in: db)
            }
        }
    }

    /// The next run of queued changes, or nil when none is left (the writer then stops).
    func nextRun() -> [Pending]? {
        state.withLock { s -> [Pending]? in
            guard !s.pending.isEmpty else {
                s.writing = false
                return nil
            }
            var size = 0
            var count = 0
            for pending in s.pending {
                if count > 0 && size + pending.step.size > Self.commitLimit { break }
                size += pending.step.size
                count += 1
            }
            let run = Array(s.pending[..<count])
            s.pending.removeFirst(count)
            return run
        }
    }

    func commit(_ run: [Pending], in db: Database) {
        let draft = table.draft(run.map(\.step))
        guard !draft.events.isEmpty else {
            return finish(run, draft.outcomes)
        }
        let at = table.clock.now().millisecondsSinceEpoch
        do {
            try db.inTransaction(.immediate) {
                let upsert = try BoundStatement("INSERT OR REPLACE INTO routes (key, record) VALUES (?, ?)", in: db)
                let remove = try BoundStatement("DELETE FROM routes WHERE key = ?", in: db)
                let record = try BoundStatement("""
                    INSERT INTO history (revision, at, kind, key, owner, tunnel, principal, peer, before, after)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, in: db)
                // What each key held before this run's changes to it: the table (still at the
                // draft's base) for the first, the run's own previous change after that.
                var latest: [String: Route?] = [:]
                var step = 0
                for (index, event) in draft.events.enumerated() {
                    while step < draft.stepEnds.count - 1 && index >= draft.stepEnds[step] { step += 1 }
                    guard let route = event.route else { continue }
                    let before: Route? = event.kind == .add ? nil : (latest[event.key] ?? table.stored(key: event.key, kind: route.kind))
                    let after: Route? = (event.kind == .add || event.kind == .update) ? route : nil
                    latest[event.key] = .some(after)
                    let text = StoredRoute.encode(route)
                    if after != nil {
                        try upsert.run(.text(event.key), .text(text))
                    } else {
                        try remove.run(.text(event.key))
                    }
                    let previous: BoundStatement.Value = event.kind == .add ? .null : before.map { .text(StoredRoute.encode($0)) } ?? .null
                    try record.run(.integer(Int64(event.revision)), .integer(at), .text(event.kind.rawValue), .text(event.key),
                                   .text(route.owner), .text(route.tunnel.rawValue), .text(run[step].principal), .text(run[step].peer),
                                   previous, after == nil ? .null : .text(text))
                }
                try db.execute(sql: "UPDATE meta SET value = ? WHERE name = 'revision'",
                               arguments: [String(draft.events.last!.revision)])
                return .commit
            }
        } catch {
            let problem = "the state file \(path) could not be written: \(error)"
            state.withLock { $0.problem = problem }
            logger.error("state file write failed", metadata: ["db": "\(path)", "error": "\(error)"])
            return fail(run, .unavailable(problem + "; nothing was changed"))
        }
        state.withLock { $0.problem = nil }
        _ = table.replicate(draft.events)
        finish(run, draft.outcomes)
    }

    func finish(_ run: [Pending], _ outcomes: [DraftOutcome]) {
        for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
    }

    func fail(_ run: [Pending], _ error: RouteError) {
        for pending in run { pending.complete(pending.step.failure(error)) }
    }

    /// Drops history older than the retention, and all but its newest rows.
    func prune() {
        let cutoff = table.clock.now().millisecondsSinceEpoch - retention.age.milliseconds
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
