import DomainRouter

/// Where the daemon's changes to the table are decided: the seam between the operations
/// (`RequestExecutor`) and the state. The in-memory `MemoryStore` is the first; a store that
/// must first ask a disk or a shared server (SQLite, Redis) implements the same calls.
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
    func add(_ requests: [AddRequest], as principal: Principal,
             completion: @escaping @Sendable ([Result<AddResult, RouteError>]) -> Void)

    /// Deletes one route, or every route of a tunnel, and completes with what went.
    func delete(_ key: RouteKey, as principal: Principal,
                completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void)

    /// Renews a route's (or a tunnel's routes') expiry, and completes with the routes renewed.
    func touch(_ key: RouteKey, ttl: Duration?, as principal: Principal,
               completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void)

    /// Applies every operation or none (an atomic batch).
    func apply(_ operations: [BatchOperation], as principal: Principal,
               completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void)

    /// A connection closed: its session's routes go after `grace` unless it is resumed.
    func endSession(_ session: UInt64, grace: Duration)

    /// Hands a closed session's routes to another; returns how many routes moved.
    func resumeSession(_ old: UInt64, as new: UInt64) -> Int

    /// Removes the routes whose time is up (with their events); returns how many went.
    func expire() -> Int
}
