/// Namespaces on a table: put in force at start and again on each reload.
extension RouteTable {
    /// Puts `policy` in force (nil: none) for every later change. Nothing already in the table
    /// is removed: a route a new policy puts over a quota or outside every namespace stays, and
    /// adds are checked against the policy from now on.
    public func setNamespaces(_ policy: NamespacePolicy?) {
        state.write { $0.setNamespaces(policy) }
    }

    /// `key(_:)` as `principal` writes it: a bare label goes under the principal's namespace
    /// when they belong to exactly one (a user namespace: their own subtree), else under the
    /// only base domain as for anyone.
    public func key(_ text: String, for principal: Principal) throws(RouteError) -> RouteKey {
        if !principal.isAdmin, !text.isEmpty, !text.utf8.contains(UInt8(ascii: ".")), !text.utf8.contains(UInt8(ascii: ":")),
           !text.hasPrefix("*"), let home = state.read({ $0.namespaces == nil ? nil : $0.homeDomain(of: principal) }) {
            return try key(text + "." + home)
        }
        return try key(text)
    }

    /// What `principal` sees in full beyond their own routes: the team namespaces they belong
    /// to and those they administer. Nil for an admin (who sees everything) and when nothing is
    /// shared with them.
    public func sharedArea(for principal: Principal) -> NamespaceArea? {
        guard !principal.isAdmin else { return nil }
        return state.read { s -> NamespaceArea? in
            guard let policy = s.namespaces else { return nil }
            let area = s.sharedNamespaces(of: principal).sorted().reduce(NamespaceArea()) { $0.union(policy.namespaces[$1].area) }
            return area.isEmpty ? nil : area
        }
    }

    /// What namespace `name` owns, for narrowing a list or a watch to it: `not_found` when no
    /// namespace in force has that name, `forbidden` when `principal` (not an admin) is not
    /// a member.
    public func area(ofNamespace name: String, for principal: Principal) throws(RouteError) -> NamespaceArea {
        try state.read { (s: borrowing TableState) throws(RouteError) -> NamespaceArea in
            guard let policy = s.namespaces, let index = policy.namespaces.firstIndex(where: { $0.name == name }) else {
                throw .notFound("no namespace '\(name.clipped(80))' is in force (routerctl namespaces lists those you belong to)")
            }
            if !principal.isAdmin, !policy.isMember(principal.name, of: index) {
                throw .forbidden("\(principal.name) is not a member of namespace \(name)")
            }
            return policy.namespaces[index].area
        }
    }

    /// Throws `forbidden` when `key` lies where `principal` may not look: in a namespace they do
    /// not belong to, or in another member's subtree of a user namespace. The answer is the
    /// same whether or not anything is routed there.
    public func checkVisible(_ key: RouteKey, to principal: Principal) throws(RouteError) {
        guard !principal.isAdmin else { return }
        try state.read { (s: borrowing TableState) throws(RouteError) in
            guard s.namespaces != nil else { return }
            try s.checkVisible(key, to: principal)
        }
    }

    /// `checkVisible(_:to:)` for a raw Host header value or SNI name; a value that is no name
    /// passes (its lookup fails on its own).
    public func checkVisible(host: String, source: NameSource, to principal: Principal) throws(RouteError) {
        guard !principal.isAdmin, state.read({ $0.namespaces != nil }),
              let name = try? HostNames.canonicalize(host, as: source, allowWildcard: false, validateIDN: false) else { return }
        try checkVisible(.host(name), to: principal)
    }

    /// The namespace `key` lies in, if any: how refusals are counted by namespace.
    public func namespace(of key: RouteKey) -> String? {
        state.read { s in
            guard let policy = s.namespaces, let place = s.namespacePlace(key) else { return nil }
            return policy.namespaces[place.index].name
        }
    }

    /// What each namespace in force holds, in the policy's order: all of them for an admin (or
    /// with no principal), those `principal` belongs to for anyone else.
    public func namespaceUse(for principal: Principal? = nil) -> [NamespaceReport] {
        state.read { s in
            guard let policy = s.namespaces else { return [] }
            return policy.namespaces.enumerated().compactMap { index, namespace -> NamespaceReport? in
                if let principal, !principal.isAdmin, !policy.isMember(principal.name, of: index) { return nil }
                let use = s.namespaceUse[index]
                var members: [String: Int] = [:]
                for (owner, held) in use.byOwner { members[s.owners[Int(owner)]] = held.routes }
                return NamespaceReport(namespace: namespace, routes: use.routes, tcpPorts: use.tcpPorts,
                                       sessionRoutes: use.sessionRoutes, routesByOwner: members)
            }
        }
    }
}

/// What one namespace holds, against its quotas.
public struct NamespaceReport: Sendable, Hashable {
    public var namespace: Namespace
    public var routes: Int
    public var tcpPorts: Int
    /// Routes bound to a session.
    public var sessionRoutes: Int
    /// Routes each owner holds in it.
    public var routesByOwner: [String: Int]

    /// Whether it holds more than a quota allows (a reload lowered it): nothing is removed,
    /// but adds are refused until it is back under.
    public var isOverQuota: Bool {
        if let limit = namespace.quota.routes, routes > limit { return true }
        if let limit = namespace.quota.tcpPorts, tcpPorts > limit { return true }
        if let limit = namespace.quota.sessionRoutes, sessionRoutes > limit { return true }
        if let limit = namespace.memberQuota.routes, routesByOwner.values.contains(where: { $0 > limit }) { return true }
        return false
    }
}
