extension RouteTable {
    /// Applies every operation or none: on the first failure the table is left exactly as it was
    /// (no revision spent, no event seen by any watcher). Watchers see a committed batch's events
    /// together, in order, one revision each.
    public func apply(_ ops: [BatchOperation], as principal: Principal) throws(BatchFailure) -> [BatchOutcome] {
        let ops = try validated(ops)
        let now = clock.now().millisecondsSinceEpoch
        return try state.write { (s: inout TableState) throws(BatchFailure) -> [BatchOutcome] in
            try s.applyAtomically(ops, principal: principal, now: now)
        }
    }

    /// The operations checked as far as they can be without the table, with random-name
    /// domains made canonical; the first that fails is the batch's failure.
    func validated(_ ops: [BatchOperation]) throws(BatchFailure) -> [BatchOperation] {
        var ops = ops
        for i in ops.indices {
            do throws(RouteError) {
                switch ops[i] {
                case .add(var request):
                    try request.validate()
                    if case .random(let domain?) = request.name {
                        do {
                            request.name = .random(domain: try HostNames.canonicalize(domain, as: .name))
                        } catch {
                            throw .invalidName(domain, error)
                        }
                        ops[i] = .add(request)
                    }
                case .touch(_, let ttl?):
                    try AddRequest.validate(ttl: ttl)
                default:
                    break
                }
            } catch {
                throw BatchFailure(index: i, error: error)
            }
        }
        return ops
    }
}
