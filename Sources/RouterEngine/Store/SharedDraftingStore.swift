import DomainRouter

/// A drafting store shared by several daemons (Redis, etcd), each holding a lease in it:
/// every daemon's sweeper drafts the expiry of what is due, the store commits each expiry once,
/// and the session routes of a daemon whose lease lapsed are expired by the others after the
/// grace.
package protocol SharedDraftingStore: DraftingStore {
    /// Sessions of other daemons whose lease lapsed more than the grace ago (`now`: ms since
    /// the epoch).
    func lapsedSessions(now: Int64) -> Set<UInt64>
    /// Takes the one expiry slot, when the store is available and the daemon not stopping;
    /// false when it is taken or expiry must wait.
    func startExpiry() -> Bool
    /// Gives the expiry slot back.
    func endExpiry()
}

extension SharedDraftingStore {
    /// Drafts the expiry of what is due: routes past their TTL, this daemon's sessions past
    /// their grace, and the session routes of daemons whose lease lapsed. At most one expiry is
    /// in flight; completes with how many routes went.
    package func expire(completion: @escaping @Sendable (Int) -> Void) {
        let now = table.clock.now().millisecondsSinceEpoch
        let lapsed = lapsedSessions(now: now)
        let due = (table.nextDeadline.map { $0 <= now } ?? false) || !lapsed.isEmpty
        guard due, startExpiry() else { return completion(0) }
        var steps: [DraftStep] = [.expireDue]
        if !lapsed.isEmpty { steps.append(.expireSessions(lapsed)) }
        enqueue(steps, principal: "", peer: "") { outcomes in
            self.endExpiry()
            completion(outcomes.reduce(0) { total, outcome in
                if case .expired(let n) = outcome { return total + n }
                return total
            })
        }
    }
}

extension SharedDraftingStore {
    /// A shared store keeps no change history beyond the log watches resume from: it says so,
    /// and where the history is (`watch --from-revision`, or a daemon of its own with `--db`).
    package func history(_ query: HistoryQuery, completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void) {
        completion(.failure(.invalidArgument("a shared store (--store) keeps no change history, only its last changes for watches to resume from (`routerctl watch --from-revision N`); a routerd of its own keeps one with --db FILE")))
    }
}
