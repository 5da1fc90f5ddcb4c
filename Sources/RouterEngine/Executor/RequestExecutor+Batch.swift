import DomainRouter

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
            }
            completion(result)
        }
    }
}
