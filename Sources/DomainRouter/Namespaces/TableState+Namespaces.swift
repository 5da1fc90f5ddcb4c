/// Namespaces on the table: what each holds (kept as routes come and go, so a quota check is a
/// lookup), and the checks an add by a non-admin passes in one. Admins pass them all.
extension TableState {
    /// What one namespace holds: routes and `tcp:N` routes, in all and by owner.
    struct NamespaceUse {
        var routes = 0
        var tcpPorts = 0
        var sessionRoutes = 0
        var byOwner: [UInt32: (routes: Int, tcpPorts: Int)] = [:]
        var sessionRoutesByOwner: [UInt32: Int] = [:]
    }

    /// The namespace `key` lies in, if any: a host or wildcard by its name, `tcp:N` by the port
    /// ranges.
    func namespacePlace(_ key: RouteKey) -> NamespacePolicy.Place? {
        guard let policy = namespaces else { return nil }
        switch key {
        case .host(let name): return policy.place(of: name)
        case .wildcard(let parent): return policy.place(of: parent)
        case .tcp(let port): return policy.index(ofPort: port).map { NamespacePolicy.Place(index: $0, domain: "", member: nil) }
        case .tunnel: return nil
        }
    }

    /// Counts a route in (delta 1) or out (-1) of its namespace's use.
    mutating func countInNamespace(_ key: RouteKey, owner: UInt32, by delta: Int) {
        guard namespaces != nil, let place = namespacePlace(key) else { return }
        let tcp = if case .tcp = key { delta } else { 0 }
        namespaceUse[place.index].routes += delta
        namespaceUse[place.index].tcpPorts += tcp
        var mine = namespaceUse[place.index].byOwner[owner] ?? (0, 0)
        mine.routes += delta
        mine.tcpPorts += tcp
        namespaceUse[place.index].byOwner[owner] = mine.routes == 0 ? nil : mine
    }

    /// Counts slot `s` in (1) or out (-1) of its namespace's session routes.
    mutating func countSessionRoute(_ s: UInt32, by delta: Int) {
        guard let place = namespacePlace(routeKey(s)) else { return }
        let owner = slots[Int(s)].owner
        namespaceUse[place.index].sessionRoutes += delta
        let mine = (namespaceUse[place.index].sessionRoutesByOwner[owner] ?? 0) + delta
        namespaceUse[place.index].sessionRoutesByOwner[owner] = mine == 0 ? nil : mine
    }

    /// Puts `policy` in force (nil: none) and counts what each namespace holds now. Routes it
    /// puts over a quota or outside every namespace stay; later adds are checked against it.
    mutating func setNamespaces(_ policy: NamespacePolicy?) {
        namespaces = policy
        namespacesGeneration += 1
        namespaceUse = Array(repeating: NamespaceUse(), count: policy?.namespaces.count ?? 0)
        guard policy != nil else { return }
        for s in 0..<UInt32(slots.count) where slots[Int(s)].live {
            countInNamespace(routeKey(s), owner: slots[Int(s)].owner, by: 1)
            if slots[Int(s)].session != 0 { countSessionRoute(s, by: 1) }
        }
    }

    /// Whether `principal` (not an admin) may add `key` for `owner` as its namespace says:
    /// nil when the key lies in no namespace (the table's other rules apply); otherwise throws
    /// `forbidden` for a non-member, another member's subtree or the namespace's own domain
    /// (its admins only), or `quota_exceeded`; returns true when the namespace allows it (the
    /// base-domain rules then do not apply: a namespace may own any domain). `existing` is the
    /// route the add would replace or refresh.
    func checkNamespace(_ key: RouteKey, principal: Principal, owner: String, ttl: Duration?,
                        session: Bool = false, existing: UInt32?) throws(RouteError) -> Bool? {
        guard let policy = namespaces, !principal.isAdmin, let place = namespacePlace(key) else { return nil }
        let namespace = policy.namespaces[place.index]
        let who = principal.name
        guard policy.isMember(who, of: place.index) else {
            throw .forbidden("\(key) is in namespace \(namespace.name), which \(who) is not a member of")
        }
        let admin = policy.isAdmin(who, of: place.index)
        switch namespace.kind {
        case .user:
            guard let member = place.member else {
                throw .forbidden("\(key) is the parent of namespace \(namespace.name)'s subtrees; members add names below \(who).\(place.domain)")
            }
            guard member == who else {
                throw .forbidden("\(key) is in \(member).\(place.domain), \(member)'s subtree in namespace \(namespace.name); yours is \(who).\(place.domain)")
            }
        case .team:
            // The namespace's own domain, or a wildcard over all of it: its admins only.
            let whole: Bool
            switch key {
            case .host(let name): whole = name == place.domain
            case .wildcard(let parent): whole = parent == place.domain
            default: whole = false
            }
            if whole && !admin {
                throw .forbidden("\(key) covers all of namespace \(namespace.name); only its admins (\(namespace.admins.sorted().joined(separator: ", "))) may add it")
            }
        }
        // Quotas: what the add would hold after it.
        let ownerID = ownerIDs[owner]
        let keeps = existing.map { ownerID != nil && slots[Int($0)].owner == ownerID! } ?? false
        let grows = existing == nil
        let isTCP = if case .tcp = key { true } else { false }
        let use = namespaceUse[place.index]
        let mine = ownerID.flatMap { use.byOwner[$0] } ?? (0, 0)
        // A session route is one more unless the route it refreshes is bound already.
        let newSession = session && (existing.map { slots[Int($0)].session == 0 } ?? true)
        let mySessions = ownerID.flatMap { use.sessionRoutesByOwner[$0] } ?? 0
        func check(_ quota: Namespace.Quota, member: String?, routes: Int, tcpPorts: Int, sessions: Int,
                   growing: Bool) throws(RouteError) {
            if let longest = quota.longestTTL {
                let limit = Int(longest.components.seconds)
                guard let ttl, ttl <= longest else {
                    throw .quotaExceeded(QuotaExceeded(limit: "ttl", namespace: namespace.name, member: member, quota: limit,
                                                       use: ttl.map { Int($0.components.seconds) }))
                }
            }
            if newSession, let limit = quota.sessionRoutes, sessions + 1 > limit {
                throw .quotaExceeded(QuotaExceeded(limit: "session_routes", namespace: namespace.name, member: member, quota: limit, use: sessions))
            }
            guard growing else { return }
            if let limit = quota.routes, routes + 1 > limit {
                throw .quotaExceeded(QuotaExceeded(limit: "routes", namespace: namespace.name, member: member, quota: limit, use: routes))
            }
            if isTCP, let limit = quota.tcpPorts, tcpPorts + 1 > limit {
                throw .quotaExceeded(QuotaExceeded(limit: "tcp_ports", namespace: namespace.name, member: member, quota: limit, use: tcpPorts))
            }
        }
        try check(namespace.quota, member: nil, routes: use.routes, tcpPorts: use.tcpPorts, sessions: use.sessionRoutes, growing: grows)
        try check(namespace.memberQuota, member: who, routes: mine.routes, tcpPorts: mine.tcpPorts, sessions: mySessions, growing: !keeps)
        return true
    }

    /// Whether `principal` may act on slot `s` as a member of its team namespace: renew it (any
    /// member) or delete and replace it (`manage`: the namespace's admins).
    func mayActInNamespace(on s: UInt32, principal: Principal, manage: Bool) -> Bool {
        guard let policy = namespaces, let place = namespacePlace(routeKey(s)) else { return false }
        if manage { return policy.isAdmin(principal.name, of: place.index) }
        return policy.namespaces[place.index].kind == .team && policy.isMember(principal.name, of: place.index)
    }

    /// The namespace domain a bare label or a random name goes under for `principal`: the
    /// domain of its only namespace (a user namespace: the principal's own subtree), if it
    /// belongs to exactly one.
    func homeDomain(of principal: Principal) -> String? {
        guard let policy = namespaces, !principal.isAdmin else { return nil }
        let mine = policy.memberships(of: principal.name)
        guard mine.count == 1 else { return nil }
        let namespace = policy.namespaces[mine[0]]
        return namespace.kind == .user ? "\(principal.name).\(namespace.domains[0])" : namespace.domains[0]
    }

    /// The port range `tcp:auto` draws from for `principal`: its only namespace's, if it has one.
    func homePorts(of principal: Principal) -> ClosedRange<UInt16>? {
        guard let policy = namespaces, !principal.isAdmin else { return nil }
        let mine = policy.memberships(of: principal.name)
        guard mine.count == 1 else { return nil }
        return policy.namespaces[mine[0]].tcpPorts
    }
}
