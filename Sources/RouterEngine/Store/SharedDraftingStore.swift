import DomainRouter
import Logging

/// What every shared store (Redis, etcd) keeps of itself, inside its own state: the store's
/// id, this daemon's node, whether the store answers, the expiry slot, and the namespaces
/// digests.
package struct SharedStoreState: Sendable {
    /// Session numbers of node N start at N << nodeShift.
    package static let nodeShift: UInt64 = 40

    /// The revision sequence's id, the greeting's `instance`.
    package var storeID = ""
    /// This daemon's node number, taken from the store at start.
    package var node: UInt64 = 0
    /// Whether the store answers, and the revision it last said.
    package var health = StoreHealth()
    /// An expiry is in flight.
    package var expiring = false
    /// Graceful shutdown has begun.
    package var stopping = false
    /// The digest of the namespaces this daemon enforces (nil: not published yet).
    package var configDigest: String?
    /// Live daemons enforcing other namespaces, as last read (`node N: DIGEST`).
    package var configMismatch: [String] = []

    package init() {}
}

/// A drafting store shared by several daemons (Redis, etcd), each holding a lease in it:
/// every daemon's sweeper drafts the expiry of what is due, the store commits each expiry once,
/// and the session routes of a daemon whose lease lapsed are expired by the others after the
/// grace. The parts every such store has alike are here, over its `SharedStoreState`.
package protocol SharedDraftingStore: DraftingStore {
    /// `redis` or `etcd`, as `stats` says.
    var kind: String { get }
    /// Where the store is, for messages and logs.
    var location: String { get }
    var logger: Logger { get }
    /// Runs `body` on the store's shared state, under the store's lock.
    func withShared<T>(_ body: (inout SharedStoreState) -> T) -> T
    /// Sessions of other daemons whose lease lapsed more than the grace ago (`now`: ms since
    /// the epoch).
    func lapsedSessions(now: Int64) -> Set<UInt64>
}

extension SharedDraftingStore {
    /// Drafts the expiry of what is due: routes past their TTL, this daemon's sessions past
    /// their grace, and the session routes of daemons whose lease lapsed. At most one expiry is
    /// in flight, and none while the store is away or the daemon stopping; completes with how
    /// many routes went.
    package func expire(completion: @escaping @Sendable (Int) -> Void) {
        let now = table.clock.now().millisecondsSinceEpoch
        let lapsed = lapsedSessions(now: now)
        let due = (table.nextDeadline.map { $0 <= now } ?? false) || !lapsed.isEmpty
        let start = due && withShared { s -> Bool in
            guard !s.expiring, s.health.available, !s.stopping else { return false }
            s.expiring = true
            return true
        }
        guard start else { return completion(0) }
        var steps: [DraftStep] = [.expireDue]
        if !lapsed.isEmpty { steps.append(.expireSessions(lapsed)) }
        enqueue(steps, principal: "", peer: "") { outcomes in
            self.withShared { $0.expiring = false }
            completion(outcomes.reduce(0) { total, outcome in
                if case .expired(let n) = outcome { return total + n }
                return total
            })
        }
    }

    package var status: StoreStatus {
        withShared { s in
            var status = s.health.status(kind: kind, id: s.storeID, location: location)
            status.configDigest = s.configDigest
            status.configMismatch = s.configMismatch
            return status
        }
    }

    package var sessionBase: UInt64 { withShared { $0.node << SharedStoreState.nodeShift } }

    package func publishConfigDigest(_ digest: String) {
        withShared { $0.configDigest = digest }
    }

    /// The store answered (at `revision`, when the answer says); logs its return.
    package func markContact(revision: UInt64? = nil) {
        if withShared({ $0.health.contact(revision: revision) }) {
            logger.notice("store reachable again", metadata: ["store": "\(location)"])
        }
    }

    /// A call to the store failed; logs the loss once.
    package func markUnavailable(_ error: any Error) {
        if withShared({ $0.health.lost(error) }) {
            logger.error("store unreachable", metadata: ["store": "\(location)", "error": "\(error)"])
        }
    }

    /// Compares the live daemons' namespaces digests (`live`: node → digest) with this one's:
    /// daemons on one store must enforce the same namespaces; `/readyz` fails until they do.
    package func compareDigests(live: [UInt64: String]) {
        let compared = withShared { s -> (digest: String, before: [String], after: [String])? in
            guard let digest = s.configDigest else { return nil }
            let before = s.configMismatch
            s.configMismatch = ConfigDigests.mismatch(digest, node: s.node, live: live)
            return (digest, before, s.configMismatch)
        }
        guard let compared else { return }
        ConfigDigests.report(before: compared.before, after: compared.after, digest: compared.digest, store: location, logger: logger)
    }

    /// A shared store keeps no change history beyond the log watches resume from: it says so,
    /// and where the history is (`watch --from-revision`, or a daemon of its own with `--db`).
    package func history(_ query: HistoryQuery, completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void) {
        completion(.failure(.invalidArgument("a shared store (--store) keeps no change history, only its last changes for watches to resume from (`routerctl watch --from-revision N`); a routerd of its own keeps one with --db FILE")))
    }
}
