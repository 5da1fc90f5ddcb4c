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
            completion(StepAnswer.added(outcomes))
        }
    }

    package func delete(_ key: RouteKey, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        enqueue([.delete(key, principal)], principal: principal.name, peer: peer) { outcomes in
            completion(StepAnswer.deleted(outcomes))
        }
    }

    package func touch(_ key: RouteKey, ttl: Duration?, as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        enqueue([.touch(key, ttl: ttl, principal)], principal: principal.name, peer: peer) { outcomes in
            completion(StepAnswer.touched(outcomes))
        }
    }

    package func update(_ key: RouteKey, _ change: RouteChange, as principal: Principal, peer: String,
                        completion: @escaping @Sendable (Result<Route, RouteError>) -> Void) {
        enqueue([.update(key, change, principal)], principal: principal.name, peer: peer) { outcomes in
            completion(StepAnswer.updated(outcomes))
        }
    }

    package func apply(_ operations: [BatchOperation], as principal: Principal, peer: String,
                       completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void) {
        enqueue([.batch(operations, principal)], principal: principal.name, peer: peer) { outcomes in
            completion(StepAnswer.batch(outcomes))
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
            completion(StepAnswer.moved(outcomes))
        }
    }
}

/// The answer to one queued step, read from its outcomes. Every step gets exactly one outcome
/// of its own kind (`DraftStep.failure` keeps that true when a commit fails); a store that
/// answers otherwise breaks `RouteStore`'s promise that each completion is called exactly
/// once, and would leave its client waiting for ever. The process stops instead, naming the
/// step and what it got.
package enum StepAnswer {
    package static func added(_ outcomes: [DraftOutcome]) -> [Result<AddResult, RouteError>] {
        if outcomes.count == 1, case .added(let results) = outcomes[0] { return results }
        mismatch("add", outcomes)
    }

    package static func deleted(_ outcomes: [DraftOutcome]) -> Result<[Route], RouteError> {
        if outcomes.count == 1, case .deleted(let result) = outcomes[0] { return result }
        mismatch("delete", outcomes)
    }

    package static func touched(_ outcomes: [DraftOutcome]) -> Result<[Route], RouteError> {
        if outcomes.count == 1, case .touched(let result) = outcomes[0] { return result }
        mismatch("touch", outcomes)
    }

    package static func updated(_ outcomes: [DraftOutcome]) -> Result<Route, RouteError> {
        if outcomes.count == 1, case .updated(let result) = outcomes[0] { return result }
        mismatch("update", outcomes)
    }

    package static func batch(_ outcomes: [DraftOutcome]) -> Result<[BatchOutcome], BatchFailure> {
        if outcomes.count == 1, case .batch(let result) = outcomes[0] { return result }
        mismatch("batch", outcomes)
    }

    package static func moved(_ outcomes: [DraftOutcome]) -> Result<Int, RouteError> {
        if outcomes.count == 1 {
            switch outcomes[0] {
            case .moved(let n): return .success(n)
            case .failed(let error): return .failure(error)
            default: break
            }
        }
        mismatch("session move", outcomes)
    }

    static func mismatch(_ step: String, _ outcomes: [DraftOutcome]) -> Never {
        let kinds = outcomes.map { outcome -> String in
            switch outcome {
            case .added: "added"
            case .deleted: "deleted"
            case .touched: "touched"
            case .updated: "updated"
            case .batch: "batch"
            case .expired: "expired"
            case .moved: "moved"
            case .failed: "failed"
            }
        }
        preconditionFailure("a drafting store answered a \(step) step with [\(kinds.joined(separator: ", "))]: each step gets exactly one outcome of its own kind")
    }
}
