/// Whether a shared store (Redis, etcd) can be reached, as its daemon last found: kept inside
/// the store's own state, changed by each answer and each failure, and reported by `stats`,
/// `/readyz` and the greeting.
package struct StoreHealth: Sendable {
    /// Whether the last call got an answer.
    package private(set) var available = false
    /// Why not, when not.
    package private(set) var problem: String?
    /// Since when the store has been out of reach.
    package private(set) var unavailableSince: ContinuousClock.Instant?
    /// When the store last answered.
    package private(set) var lastContact: ContinuousClock.Instant?
    /// The store's revision as last seen.
    package var storeRevision: UInt64 = 0

    package init() {}

    /// The store answered (at `revision`, when the answer says). Returns true when it had been
    /// away (a failure was noted), for the caller to log that it is back.
    package mutating func contact(revision: UInt64? = nil) -> Bool {
        lastContact = .now
        if let revision { storeRevision = max(storeRevision, revision) }
        let back = !available && problem != nil
        available = true
        problem = nil
        unavailableSince = nil
        return back
    }

    /// A call failed for `error`. Returns true when the store was available until now, for the
    /// caller to log the loss once.
    package mutating func lost(_ error: any Error) -> Bool {
        let first = available
        available = false
        problem = "\(error)"
        if unavailableSince == nil { unavailableSince = .now }
        return first
    }

    /// What `stats` shows of a store of `kind` with id `id` at `location`.
    package func status(kind: String, id: String, location: String) -> StoreStatus {
        StoreStatus(kind: kind, id: id, location: location, available: available, problem: problem,
                    storeRevision: storeRevision, lastContactMilliseconds: lastContact.map { (ContinuousClock.now - $0).milliseconds })
    }
}
