/// What a non-admin may see under namespaces. Outside every namespace the table's old rule
/// holds (anyone may look a name up; another owner's target, labels and access rules are left
/// out). Inside one, only its members look: a team's members see each other's routes in full,
/// a user namespace's members only their own subtree, a namespace's admins all of it.
extension TableState {
    /// The namespaces whose routes `principal` sees in full whoever owns them: the team
    /// namespaces they belong to and those they administer.
    func sharedNamespaces(of principal: Principal) -> Set<Int> {
        guard let policy = namespaces, !principal.isAdmin else { return [] }
        return Set(policy.memberships(of: principal.name).filter {
            policy.namespaces[$0].kind == .team || policy.isAdmin(principal.name, of: $0)
        })
    }

    /// Throws `forbidden` when `key` lies in a namespace part `principal` may not look at: a
    /// namespace they are not a member of, or another member's subtree of a user namespace.
    /// Whether the key is routed does not change the answer, so it tells nothing about routes
    /// there.
    func checkVisible(_ key: RouteKey, to principal: Principal) throws(RouteError) {
        guard let policy = namespaces, !principal.isAdmin, let place = namespacePlace(key) else { return }
        let namespace = policy.namespaces[place.index]
        let who = principal.name
        guard policy.isMember(who, of: place.index) else {
            throw .forbidden("\(key) is in namespace \(namespace.name), which \(who) is not a member of")
        }
        guard namespace.kind == .user, !policy.isAdmin(who, of: place.index), place.member != who else { return }
        if let member = place.member {
            throw .forbidden("\(key) is in \(member).\(place.domain), \(member)'s subtree in namespace \(namespace.name); members see only their own (\(who).\(place.domain))")
        }
        throw .forbidden("\(key) is the parent of namespace \(namespace.name)'s subtrees; members see only their own (\(who).\(place.domain))")
    }

    /// Whether `checkVisible` lets `principal` see `key`.
    func isVisible(_ key: RouteKey, to principal: Principal) -> Bool {
        do { try checkVisible(key, to: principal); return true } catch { return false }
    }
}
