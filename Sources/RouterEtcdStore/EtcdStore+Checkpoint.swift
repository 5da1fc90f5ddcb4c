import DomainRouter
import RouterEngine
import RouterEtcd

/// The checkpoint: the routes keys brought up to the log, off the write path. A commit writes
/// only its log entry and the head (a few operations whatever its size); the checkpoint then
/// writes each changed route's last state in transactions of at most `checkpointKeys` keys,
/// each comparing `applied`, so that concurrent checkpoints of several daemons write each
/// change once. It trims the log entries behind both the checkpoint and the history.
extension EtcdStore {
    func keepCheckpoint() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.renewal)
            if Task.isCancelled { return }
            do {
                while try await checkpoint() {}
            } catch {
                logger.debug("checkpoint did not go through", metadata: ["store": "\(location)", "error": "\(error)"])
            }
        }
    }

    /// Whether this daemon checkpoints: the live daemon of the lowest node does; the others
    /// only when the checkpoint lags far behind (that daemon is stuck).
    func checkpoints(lag: UInt64) -> Bool {
        state.withLock { s in
            s.shared.node == (s.members.keys.min() ?? s.shared.node) || lag > 16 * UInt64(Self.commitLimit)
        }
    }

    /// One checkpoint transaction; true when there is more to do.
    func checkpoint() async throws -> Bool {
        let read = try await client.txn(EtcdJSON.txn(compare: [], success: [
            .range(EtcdJSON.range(keys.applied)), .range(EtcdJSON.range(keys.head)),
        ]), failover: true)
        guard read.ranges.count == 2 else { return false }
        let appliedKV = read.ranges[0].kvs.first
        let applied = appliedKV.flatMap { UInt64($0.value) } ?? 0
        let (head, _) = try Self.head(read.ranges[1].kvs.first?.value)
        guard head > applied, checkpoints(lag: head - applied) else { return false }
        // The entries after the checkpoint, until `checkpointKeys` routes have changed.
        var changed: [String: RouteEvent] = [:]
        var order: [String] = []
        var reached = applied
        var key = keys.log(applied + 1)
        scan: while true {
            let page = try await client.range(EtcdJSON.range(key, end: keys.end(keys.log), revision: read.revision, limit: 16), timeout: Self.bulkTimeout)
            for kv in page.kvs {
                let entry = try await entry(kv, at: read.revision)
                for event in entry.events where event.revision > reached {
                    guard event.revision == reached + 1 else {
                        throw StoreFormatError("the log in \(location) lacks revision \(reached + 1) after the checkpoint")
                    }
                    if changed[event.key] == nil {
                        // A change's events may span transactions: the routes show each
                        // revision's state, and `applied` says which.
                        if order.count == Self.checkpointKeys { break scan }
                        order.append(event.key)
                    }
                    changed[event.key] = event
                    reached = event.revision
                }
            }
            guard page.more, let last = page.kvs.last else { break }
            key = last.key + "\0"
        }
        guard reached > applied else { return false }
        var operations: [EtcdJSON.Operation] = []
        for key in order {
            let event = changed[key]!
            switch event.kind {
            case .add, .update: operations.append(.put(EtcdJSON.put(keys.routes + key, StoredRoute.encode(event.route!))))
            default: operations.append(.delete(EtcdJSON.delete(keys.routes + key)))
            }
        }
        operations.append(.put(EtcdJSON.put(keys.applied, String(reached))))
        // Entries wholly behind both the checkpoint and the history the watches may replay.
        let keep = head > UInt64(logLength) ? head - UInt64(logLength) : 0
        let trim = min(reached, keep)
        if trim > 0 {
            operations.append(.delete(EtcdJSON.delete(keys.log, end: keys.log(trim + 1))))
            operations.append(.delete(EtcdJSON.delete(keys.parts, end: keys.parts + String(keys.log(trim + 1).suffix(20)))))
        }
        let compare = appliedKV.map { EtcdJSON.modifiedAt(keys.applied, $0.modRevision) } ?? EtcdJSON.versionIs(keys.applied, 0)
        let result = try await client.txn(EtcdJSON.txn(compare: [compare], success: operations))
        return result.succeeded && reached < head
    }
}
