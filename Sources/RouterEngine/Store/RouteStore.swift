import DomainRouter

/// Where the daemon's changes to the table are decided: the seam between the operations
/// (`RequestExecutor`) and the state. The in-memory `MemoryStore` is the first; a store that
/// must first ask a disk or a shared server (SQLite, Redis, etcd) implements the same calls.
///
/// Contracts every store keeps:
/// - **Reads are local and synchronous.** `table` is the whole table in this process: lookups,
///   lists and watches read it directly, so no store slows a gateway's hot path. A store that
///   decides writes elsewhere applies them to `table` as its replica.
/// - **Writes complete through a callback**, called exactly once, on any thread: at once (the
///   memory store calls it before returning), or later, from the store's own thread, once the
///   change is durable or decided. No call blocks its caller's thread waiting for the store.
/// - **A caller reads its own writes**: when a completion runs, `table` already shows the change.
/// - **Results are in request order** for a run of adds; each add succeeds or fails on its own.
package protocol RouteStore: Sendable {
    /// The in-memory table: the read path of every lookup, list and watch.
    var table: RouteTable { get }

    /// Applies `requests` in order, each on its own (not all-or-nothing), and completes with
    /// one result per request.
    func add(_ requests: [AddRequest], as principal: Principal, peer: String,
             completion: @escaping @Sendable ([Result<AddResult, RouteError>]) -> Void)

    /// Deletes one route, or every route of a tunnel, and completes with what went.
    func delete(_ key: RouteKey, as principal: Principal, peer: String,
                completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void)

    /// Renews a route's (or a tunnel's routes') expiry, and completes with the routes renewed.
    func touch(_ key: RouteKey, ttl: Duration?, as principal: Principal, peer: String,
               completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void)

    /// Changes a route's target, labels or access rules in place, and completes with the route.
    func update(_ key: RouteKey, _ change: RouteChange, as principal: Principal, peer: String,
                completion: @escaping @Sendable (Result<Route, RouteError>) -> Void)

    /// Applies every operation or none (an atomic batch).
    func apply(_ operations: [BatchOperation], as principal: Principal, peer: String,
               completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void)

    /// A connection closed: its session's routes go after `grace` unless it is resumed.
    func endSession(_ session: UInt64, grace: Duration)

    /// Hands a closed session's routes to another, and completes with how many moved.
    func resumeSession(_ old: UInt64, as new: UInt64, completion: @escaping @Sendable (Result<Int, RouteError>) -> Void)

    /// Whether sessions are shared with other daemons (a resume token of one is good at all):
    /// then `offerSession` and `claimSession` carry the tokens, not the daemon's own memory.
    var sharesSessions: Bool { get }

    /// A connection with session routes closed: its resume token is good, for `grace`, at any
    /// daemon of the store.
    func offerSession(token: String, session: UInt64, uid: UInt32, grace: Duration)

    /// Takes the session a resume token names (once: the token is spent), for a peer of `uid`;
    /// completes with nil when the token is unknown or its grace is over, and fails with
    /// `forbidden` when the session is another user's.
    func claimSession(token: String, uid: UInt32, completion: @escaping @Sendable (Result<UInt64?, RouteError>) -> Void)

    /// Removes the routes whose time is up (with their events), and completes with how many
    /// went.
    func expire(completion: @escaping @Sendable (Int) -> Void)

    /// A page of the change history, newest first (stores without one refuse: see
    /// `History.swift`). Completes on any thread; never blocks the caller's.
    func history(_ query: HistoryQuery, completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void)

    /// The name `key` if it is held for its last owner now (see `HeldName`).
    func heldName(_ key: String) -> HeldName?

    /// The names held now, in key order: those starting with `prefix`, of `owner`. Stores
    /// that hold none (memory, Redis, etcd) refuse, saying where held names live, as for history.
    func heldNames(prefix: String?, owner: String?) throws(RouteError) -> [HeldName]

    /// What `stats`, `/readyz` and the greeting say of the store.
    var status: StoreStatus { get }

    /// The digest of the namespaces this daemon enforces (`NamespacePolicy.digest`), for a
    /// store shared by several daemons to compare; others ignore it.
    func publishConfigDigest(_ digest: String)

    /// Where this daemon's session numbers start: sessions of several daemons sharing one
    /// store must not collide. 0 for a store of one daemon.
    var sessionBase: UInt64 { get }
}

/// The state of a daemon's store, as `stats` and the readiness check report it.
extension RouteStore {
    package func publishConfigDigest(_ digest: String) {}
}

package struct StoreStatus: Sendable {
    /// `memory`, `sqlite`, `redis` or `etcd`.
    package var kind: String
    /// The revision sequence's id when the store has one: the same on every daemon sharing it.
    package var id: String?
    /// Where it is (a file, a Redis or etcd address), for people.
    package var location: String?
    /// Whether writes can be decided now (a shared store may be out of reach).
    package var available: Bool
    /// Why not, when it is not.
    package var problem: String?
    /// The store's revision as last seen (the table's own, compared with it, says how far
    /// behind this daemon's copy is).
    package var storeRevision: UInt64?
    /// Milliseconds since the replica last heard from the store.
    package var lastContactMilliseconds: Int64?
    /// The digest of the namespaces this daemon enforces, on a shared store.
    package var configDigest: String?
    /// The live daemons on the store that enforce other namespaces (`node N: DIGEST`): until
    /// there are none, `/readyz` fails.
    package var configMismatch: [String] = []

    package init(kind: String, id: String? = nil, location: String? = nil, available: Bool = true,
                 problem: String? = nil, storeRevision: UInt64? = nil, lastContactMilliseconds: Int64? = nil) {
        self.kind = kind
        self.id = id
        self.location = location
        self.available = available
        self.problem = problem
        self.storeRevision = storeRevision
        self.lastContactMilliseconds = lastContactMilliseconds
    }
}
