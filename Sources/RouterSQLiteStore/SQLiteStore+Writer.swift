import DomainRouter
import GRDB
import RouterEngine
import RouterProtocol

/// The writer: changes queue in the `DraftWriter`; its loop (in `run()`) takes each run (up to
/// `commitLimit` changes) onto GRDB's writer connection, drafts it, writes its events and
/// history in one transaction, and only after the commit applies them to the table and answers.
extension SQLiteStore {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    package func enqueue(_ steps: [DraftStep], principal: String, peer: String,
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        writer.enqueue(steps, principal: principal, peer: peer, completion: completion)
    }

    func commit(_ run: [Pending], in db: Database) {
        let now = table.clock.now()
        let (steps, refusals) = withoutHeldNames(run.map(\.step), now: now)
        var draft = table.draft(steps)
        for (index, refusal) in refusals { draft.outcomes[index] = refusal.outcome(draft.outcomes[index]) }
        guard !draft.events.isEmpty else {
            return finish(run, draft.outcomes)
        }
        let at = now.millisecondsSinceEpoch
        var released: [String: HeldName] = [:]
        var reclaimed: [String] = []
        do {
            try db.inTransaction(.immediate) {
                let upsert = try BoundStatement("INSERT OR REPLACE INTO routes (key, record) VALUES (?, ?)", in: db)
                let remove = try BoundStatement("DELETE FROM routes WHERE key = ?", in: db)
                let hold = try BoundStatement("INSERT OR REPLACE INTO holds (key, owner, until) VALUES (?, ?, ?)", in: db)
                let unhold = try BoundStatement("DELETE FROM holds WHERE key = ?", in: db)
                let held = state.withLock { $0.holds }
                let record = try BoundStatement("""
                    INSERT INTO history (revision, at, kind, key, owner, tunnel, principal, peer, before, after)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, in: db)
                // What each key held before this run's changes to it: the table (still at the
                // draft's base) for the first, the run's own previous change after that.
                // Only keys that a later change of the run replaces or removes are looked up (a
                // bulk load of new routes has none).
                let replaced = Set(draft.events.lazy.filter { $0.kind != .add }.map(\.key))
                var latest: [String: Route?] = [:]
                var step = 0
                let until = at + holdReleased.milliseconds
                // One event's text, bound without copies: the key, its stored route after and
                // before, and who made it.
                var row = JSONWriter(capacity: 1024)
                for (index, event) in draft.events.enumerated() {
                    while step < draft.stepEnds.count - 1 && index >= draft.stepEnds[step] { step += 1 }
                    guard let route = event.route else { continue }
                    let before: Route? = event.kind == .add ? nil : (latest[event.key] ?? table.stored(key: event.key, kind: route.kind))
                    let after: Route? = (event.kind == .add || event.kind == .update) ? route : nil
                    if !replaced.isEmpty && replaced.contains(event.key) { latest[event.key] = .some(after) }
                    row.removeAll()
                    let key = row.span { $0.append(event.key) }
                    let kind = row.span { $0.append(event.kind.rawValue) }
                    let owner = row.span { $0.append(route.owner) }
                    let tunnel = row.span { out in
                        out.appendReserved(TunnelID.maximumLength) { raw in
                            route.tunnel.writeText(to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                    let principal = row.span { $0.append(run[step].principal) }
                    let peer = row.span { $0.append(run[step].peer) }
                    let stored = after.map { after in row.span { StoredRoute.write(after, to: &$0) } }
                    let previous = before.map { before in row.span { StoredRoute.write(before, to: &$0) } }
                    // A route that lapsed (TTL, or its session's grace) leaves its name held for
                    // its owner (a delete keeps nothing); a route added under a held name ends the hold.
                    let holds = after == nil && event.kind == .expire && holdReleased > .zero
                    let reclaims = after != nil && (held[event.key] != nil || released[event.key] != nil)
                    try row.bytes.withUnsafeBufferPointer { bytes in
                        func text(_ span: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[span]) }
                        if let stored {
                            upsert.bind(1, text(key))
                            upsert.bind(2, text(stored))
                            try upsert.run()
                            if reclaims {
                                unhold.bind(1, text(key))
                                try unhold.run()
                            }
                        } else {
                            remove.bind(1, text(key))
                            try remove.run()
                            if holds {
                                hold.bind(1, text(key))
                                hold.bind(2, text(owner))
                                hold.bind(3, until)
                                try hold.run()
                            }
                        }
                        record.bind(1, Int64(event.revision))
                        record.bind(2, at)
                        record.bind(3, text(kind))
                        record.bind(4, text(key))
                        record.bind(5, text(owner))
                        record.bind(6, text(tunnel))
                        record.bind(7, text(principal))
                        record.bind(8, text(peer))
                        if let previous { record.bind(9, text(previous)) } else { record.bindNull(9) }
                        if let stored { record.bind(10, text(stored)) } else { record.bindNull(10) }
                        try record.run()
                    }
                    if reclaims {
                        reclaimed.append(event.key)
                        released[event.key] = nil
                    }
                    if holds {
                        released[event.key] = HeldName(key: event.key, owner: route.owner,
                                                       until: Timestamp(millisecondsSinceEpoch: until))
                    }
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
        state.withLock { s in
            s.problem = nil
            for key in reclaimed { s.holds[key] = nil }
            for (key, name) in released { s.holds[key] = name }
        }
        _ = table.replicate(draft.events)
        finish(run, draft.outcomes)
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
    /// admin may take a held name), and what those steps answer instead.
    func withoutHeldNames(_ steps: [DraftStep], now: Timestamp) -> ([DraftStep], [Int: HeldRefusal]) {
        guard holdReleased > .zero else { return (steps, [:]) }
        let holds = state.withLock { $0.holds }
        let table = self.table
        let hold = holdReleased.milliseconds
        func refusal(_ request: AddRequest, _ principal: Principal) -> RouteError? {
            guard case .key(let key) = request.name, let kind = key.kind else { return nil }
            let text = key.description
            if let held = holds[text], held.until > now, held.owner != principal.name {
                return .conflict(.held(text, until: held.until, owner: nil))
            }
            // A route whose TTL ran out a moment ago, not yet swept: its name is as good as held.
            if let route = table.stored(key: text, kind: kind), let expires = route.expiresAt, expires <= now,
               route.owner != principal.name {
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

    /// Answers a run on the answering queue, so that the writer goes on to the next run while
    /// the replies are written; runs are answered in the order they were committed.
    func finish(_ run: [Pending], _ outcomes: [DraftOutcome]) {
        answers.async {
            for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
        }
    }

    func fail(_ run: [Pending], _ error: RouteError) {
        answers.async {
            for pending in run { pending.complete(pending.step.failure(error)) }
        }
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

extension JSONWriter {
    /// Where the bytes `body` appends lie in `bytes`.
    mutating func span(_ body: (inout JSONWriter) -> Void) -> Range<Int> {
        let start = bytes.count
        body(&self)
        return start..<bytes.count
    }
}
