import DomainRouter

/// The in-memory store: the table is the state, and every write completes before the call
/// returns. What routerd runs without `--store` or `--db`; a restart empties it.
package struct MemoryStore: RouteStore {
    package let table: RouteTable

    package init(table: RouteTable) {
        self.table = table
    }

    package func add(_ requests: [AddRequest], as principal: Principal, peer: String,
                     completion: @escaping @Sendable ([Result<AddResult, RouteError>]) -> Void) {
        completion(table.add(each: requests, as: principal))
    }

    package func delete(_ key: RouteKey, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        completion(Result { () throws(RouteError) in try table.delete(key, as: principal) })
    }

    package func touch(_ key: RouteKey, ttl: Duration?, as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        completion(Result { () throws(RouteError) in try table.touch(key, ttl: ttl, as: principal) })
    }

    package func update(_ key: RouteKey, _ change: RouteChange, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<Route, RouteError>) -> Void) {
        completion(Result { () throws(RouteError) in try table.update(key, change, as: principal) })
    }

    package func apply(_ operations: [BatchOperation], as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void) {
        completion(Result { () throws(BatchFailure) in try table.apply(operations, as: principal) })
    }

    package func endSession(_ session: UInt64, grace: Duration) {
        table.endSession(session, grace: grace)
    }

    package func resumeSession(_ old: UInt64, as new: UInt64,
                               completion: @escaping @Sendable (Result<Int, RouteError>) -> Void) {
        completion(.success(table.resumeSession(old, as: new)))
    }

    /// One daemon: its own resume tickets are all there is.
    package var sharesSessions: Bool { false }

    package func offerSession(token: String, session: UInt64, uid: UInt32, grace: Duration) {}

    package func claimSession(token: String, uid: UInt32,
                              completion: @escaping @Sendable (Result<UInt64?, RouteError>) -> Void) {
        completion(.success(nil))
    }

    package func expire(completion: @escaping @Sendable (Int) -> Void) {
        completion(table.sweep())
    }

    package var status: StoreStatus { StoreStatus(kind: "memory") }

    package var sessionBase: UInt64 { 0 }
}
