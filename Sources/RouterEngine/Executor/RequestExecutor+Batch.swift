import DomainRouter
import RouterProtocol

extension RequestExecutor {
    /// Runs a batch one operation after another, each on its own: an operation that could not
    /// be read (`.failure`) or is refused gets its error, and the rest go on. Completes with
    /// one result per operation, in order.
    package func batch(_ operations: [Result<BatchOperation, RouteError>], as caller: Caller,
                       completion: @escaping @Sendable ([Result<BatchOutcome, RouteError>]) -> Void) {
        step(operations[...], done: [], caller, completion)
    }

    private func step(_ rest: ArraySlice<Result<BatchOperation, RouteError>>, done: [Result<BatchOutcome, RouteError>],
                      _ caller: Caller, _ completion: @escaping @Sendable ([Result<BatchOutcome, RouteError>]) -> Void) {
        guard let first = rest.first else {
            completion(done)
            return
        }
        let next = rest.dropFirst()
        let then: @Sendable (Result<BatchOutcome, RouteError>) -> Void = { outcome in
            self.step(next, done: done + [outcome], caller, completion)
        }
        switch first {
        case .failure(let error):
            // Not read, so not run: refused here, in the audit trail like any other refusal.
            Self.logRefusal(code: error.code.rawValue, message: error.description, op: "batch", caller)
            then(.failure(error))
        case .success(.add(let request)):
            add([request], as: caller) { then($0[0].map(BatchOutcome.added)) }
        case .success(.delete(let key)):
            delete(key, as: caller) { then($0.map(BatchOutcome.deleted)) }
        case .success(.touch(let key, let ttl)):
            touch(key, ttl: ttl, as: caller) { then($0.map(BatchOutcome.touched)) }
        }
    }

    /// Applies every operation or none; completes with each one's outcome, or the first
    /// failure (its index and error).
    package func apply(_ operations: [BatchOperation], as caller: Caller,
                       completion: @escaping @Sendable (Result<[BatchOutcome], BatchFailure>) -> Void) {
        let metrics = self.metrics
        store.apply(operations, as: caller.principal, peer: caller.peer) { result in
            switch result {
            case .success(let outcomes):
                for outcome in outcomes {
                    switch outcome {
                    case .added(let added): Self.logAdd(added, caller)
                    case .deleted(let removed): Self.logDelete(removed, caller)
                    case .touched: break
                    }
                }
                metrics.count(.batch, code: "ok", transport: caller.transport)
            case .failure(let failure):
                Self.logRefusal(code: failure.error.code.rawValue, message: failure.error.description, op: "batch", caller)
                metrics.count(.batch, code: failure.error.code.rawValue, transport: caller.transport)
                self.countInNamespace(failure.error, operations[failure.index].key)
            }
            completion(result)
        }
    }
}

/// A `batch` request read and typed, ready to run (`RequestExecutor.prepareBatch`).
package enum PreparedBatch: Sendable {
    /// All or nothing: every operation typed (the protocol names kept for refusals).
    case atomic([BatchOperation], names: [String])
    /// One after another: each operation typed, or why it could not be.
    case each([Result<BatchOperation, RouteError>])
}

extension RequestExecutor {
    /// A protocol `batch` request read once for every front end: each operation must be an
    /// add, delete or touch without an id (and, where the front end has no session to bind
    /// routes to, without `session`); a refusal names the operation's index in its message
    /// (`ops[N]: …`) and in `details.index`. An atomic batch's operation that cannot be typed
    /// refuses the whole batch here, before anything reaches the store.
    package func prepareBatch(_ request: Request, allowsSession: Bool, session: UInt64,
                              for principal: Principal? = nil) throws(ProtocolError) -> PreparedBatch {
        guard case .array(let items)? = request.arguments["ops"] else {
            throw ProtocolError(.badRequest, "batch needs ops, an array of operations")
        }
        var requests: [Request] = []
        requests.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch Request.validate(item, allowed: Self.batchOperations) {
            case .success(let op) where op.id == nil && (allowsSession || op.arguments["session"] == nil):
                requests.append(op)
            case .success:
                throw ProtocolError(.badRequest, "ops[\(index)]: operations in a batch carry no id" + (allowsSession ? "" : " and no session"),
                                    details: .object([("index", .number(index))]))
            case .failure(let failure):
                var error = failure.error
                error.message = "ops[\(index)]: " + error.message
                error.details = .object([("index", .number(index))])
                throw error
            }
        }
        guard request.bool("atomic") else {
            return .each(requests.map { op in Result { () throws(RouteError) in try batchOperation(op, session: session, for: principal) } })
        }
        var operations: [BatchOperation] = []
        operations.reserveCapacity(requests.count)
        for (index, op) in requests.enumerated() {
            do throws(RouteError) {
                operations.append(try batchOperation(op, session: session, for: principal))
            } catch {
                throw Wire.indexed(Wire.error(error), index: index, op: op.op)
            }
        }
        return .atomic(operations, names: requests.map(\.op))
    }

    static let batchOperations: Set<String> = [Operation.add.rawValue, Operation.delete.rawValue, Operation.touch.rawValue]

    /// Runs a prepared batch and completes with its result as every front end sends it:
    /// `{results}`, each `{ok, result}` or `{ok: false, error}`; atomic, each operation's
    /// result, or the failing operation's refusal (`Wire.indexed`) with nothing applied.
    package func run(_ batch: PreparedBatch, as caller: Caller,
                     completion: @escaping @Sendable (Result<JSONValue, ProtocolError>) -> Void) {
        let viewer = self.viewer(caller)
        switch batch {
        case .atomic(let operations, let names):
            apply(operations, as: caller) { result in
                switch result {
                case .success(let outcomes):
                    let results = zip(operations, outcomes).map { Wire.batchResult($0.1, of: $0.0, for: viewer) }
                    completion(.success(.object([("results", .array(results))])))
                case .failure(let failure):
                    completion(.failure(Wire.indexed(Wire.error(failure.error), index: failure.index, op: names[failure.index])))
                }
            }
        case .each(let operations):
            self.batch(operations, as: caller) { outcomes in
                completion(.success(Wire.batchResults(operations, outcomes, for: viewer)))
            }
        }
    }
}
