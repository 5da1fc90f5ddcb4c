import DomainRouter

/// A store that decides changes by drafting them on its table and committing the drafts
/// elsewhere (Redis, a SQLite file): every change is a `DraftStep` queued for its writer. The
/// operations of `RouteStore` are then the same for all of them, here.
package protocol DraftingStore: RouteStore {
    /// Queues steps that must go in one draft, made by `principal` from `peer`; `completion`
    /// gets their outcomes in order once committed (or failed).
    func enqueue(_ steps: [DraftStep], principal: String, peer: String,
                 completion: @escaping @Sendable ([DraftOutcome]) -> Void)
}

extension DraftingStore {
    package func add(_ requests: [AddRequest], as principal: Principal, peer: String,
                     completion: @escaping @Sendable ([Result<AddResult, RouteError>]) -> Void) {
        enqueue([.add(requests, principal)], principal: principal.name, peer: peer) { outcomes in
            if case .added(let results) = outcomes[0] { completion(results) }
        }
    }

    package func delete(_ key: RouteKey, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        enqueue([.delete(key, principal)], principal: principal.name, peer: peer) { outcomes in
            if case .deleted(let result) = outcomes[0] { completion(result) }
        }
    }

    package func touch(_ key: RouteKey, ttl: Duration?, as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        enqueue([.touch(key, ttl: ttl, principal)], principal: principal.name, peer: peer) { outcomes in
            if case .touched(let result) = outcomes[0] { completion(result) }
        }
    }

    package func update(_ key: RouteKey, _ change: RouteChange, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<Route, RouteError>) -> Void) {
        enqueue([.update(key, change, principal)], principal: principal.name, peer: peer) { outcomes in
            if case .updated(let result) = outcomes[0] { completion(result) }
        }
    }

    package func apply(_ operations: [BatchOperation], as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void) {
        enqueue([.batch(operations, principal)], principal: principal.name, peer: peer) { outcomes in
            if case .batch(let result) = outcomes[0] { completion(result) }
        }
    }

    package func endSession(_ session: UInt64, grace: Duration) {
        table.noteSessionEnded(session, grace: grace)
    }

    /// A resume moves the session's routes to the new one as a committed change (`update`
    /// events): the store, and every daemon following it, must know which session holds them.
    package func resumeSession(_ old: UInt64, as new: UInt64,
                               completion: @escaping @Sendable (Result<Int, RouteError>) -> Void) {
        enqueue([.moveSession(from: old, to: new)], principal: "routerd", peer: "") { outcomes in
            switch outcomes[0] {
            case .moved(let n): completion(.success(n))
            case .failed(let error): completion(.failure(error))
            default: completion(.success(0))
            }
        }
    }
}
