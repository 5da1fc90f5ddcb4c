/// Atomic batches: every operation applies, or none does and nobody saw any of them.
///
/// The batch runs under one write lock with its events held back. Before an operation touches a
/// key, the key's route as it was is kept; when an operation fails, each kept key is put back
/// (its route removed, the old one restored with its revisions and times) in reverse order,
/// the revision counter is rewound and the held-back events are dropped.
extension TableState {
    mutating func applyAtomically(_ ops: [BatchOperation], principal: Principal,
                                  now: Int64) throws(BatchFailure) -> [BatchOutcome] {
        expireDue(now: now)
        let startRevision = revision
        deferredEvents = []
        var before: [(key: RouteKey, route: Route?)] = []
        var seen: Set<RouteKey> = []
        var outcomes: [BatchOutcome] = []
        outcomes.reserveCapacity(ops.count)
        for (index, op) in ops.enumerated() {
            do throws(RouteError) {
                switch op {
                case .add(let request):
                    if case .key(let key) = request.name, seen.insert(key).inserted {
                        before.append((key, findSlot(key).map { route($0) }))
                    }
                    let result = try add(request, principal: principal, now: now)
                    // A random name or port was free before: restoring it means removing it.
                    if let key = routeKey(of: result.route), seen.insert(key).inserted {
                        before.append((key, nil))
                    }
                    outcomes.append(.added(result))
                case .delete(let key):
                    for k in routeKeys(of: key) where seen.insert(k).inserted {
                        before.append((k, findSlot(k).map { route($0) }))
                    }
                    outcomes.append(.deleted(try delete(key, principal: principal, now: now)))
                case .touch(let key, let ttl):
                    for k in routeKeys(of: key) where seen.insert(k).inserted {
                        before.append((k, findSlot(k).map { route($0) }))
                    }
                    outcomes.append(.touched(try touch(key, ttl: ttl, principal: principal, now: now)))
                }
            } catch {
                for (key, route) in before.reversed() {
                    if let s = findSlot(key) { remove(s, as: .delete) }
                    if let route { restore(route) }
                }
                revision = startRevision
                deferredEvents = nil
                throw BatchFailure(index: index, error: error)
            }
        }
        let events = deferredEvents ?? []
        deferredEvents = nil
        for event in events { publish(event) }
        return outcomes
    }

    /// The route keys a key names: itself, or each route of a tunnel.
    func routeKeys(of key: RouteKey) -> [RouteKey] {
        guard case .tunnel(let id) = key else { return [key] }
        guard let t = findTunnel(id) else { return [] }
        return members(of: t, now: .min).map { routeKey($0) }
    }

    func routeKey(of route: Route) -> RouteKey? {
        switch route.kind {
        case .host: return .host(route.key)
        case .wildcard: return .wildcard(String(route.key.dropFirst(2)))
        case .tcp: return UInt16(route.key.dropFirst(4)).map { .tcp($0) }
        }
    }

    /// Puts a removed route back exactly as it was (times, revisions, session), without an
    /// event; returns its slot.
    @discardableResult
    mutating func restore(_ route: Route) -> UInt32? {
        guard let key = routeKey(of: route) else { return nil }
        let owner = internOwner(route.owner)
        let (t, uuid) = tunnelSlot(for: route.tunnel, owner: owner)
        let s = newSlot(key)
        let expires = route.expiresAt?.millisecondsSinceEpoch ?? Slot.never
        slots[Int(s)].createdAt = route.createdAt.millisecondsSinceEpoch
        slots[Int(s)].updatedAt = route.updatedAt.millisecondsSinceEpoch
        slots[Int(s)].expiresAt = expires
        slots[Int(s)].ttl = route.ttl?.milliseconds ?? 0
        slots[Int(s)].createRevision = route.createRevision
        slots[Int(s)].modRevision = route.modRevision
        setTargetAndLabels(s, target: route.target, labels: route.labels, access: route.access)
        linkToTunnel(s, t, uuid: uuid)
        insertIndexes(s)
        addTally(key, owner: slots[Int(s)].owner)
        if let session = route.session { bindSession(s, to: session) }
        scheduleExpiry(s, at: expires, previous: Slot.never)
        return s
    }
}
