/// A part of the name space given to a team, or to each of a set of users: the domains it owns
/// (subtrees nobody outside it may take), a TCP port range, who belongs to it, and how much of
/// the table they may hold.
public struct Namespace: Sendable, Hashable {
    /// How members share a namespace.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Members share it: they see each other's routes and may renew them; only a route's
        /// owner or a namespace admin deletes or replaces one.
        case team
        /// Each member gets a subtree of their own, `{user}.PARENT`, that nobody else may take;
        /// members see only their own routes.
        case user
    }

    /// Limits on what a namespace (or one member in it) holds; nil: no limit.
    public struct Quota: Sendable, Hashable {
        /// Routes in all.
        public var routes: Int?
        /// `tcp:N` routes.
        public var tcpPorts: Int?
        /// Routes bound to a session (`session: true`).
        public var sessionRoutes: Int?
        /// The longest TTL a route may have; with a limit, a route must have a TTL.
        public var longestTTL: Duration?

        public init(routes: Int? = nil, tcpPorts: Int? = nil, sessionRoutes: Int? = nil, longestTTL: Duration? = nil) {
            self.routes = routes
            self.tcpPorts = tcpPorts
            self.sessionRoutes = sessionRoutes
            self.longestTTL = longestTTL
        }

        /// Whether any limit is set.
        public var isEmpty: Bool { routes == nil && tcpPorts == nil && sessionRoutes == nil && longestTTL == nil }
    }

    public var name: String
    public var kind: Kind
    /// A team's subtrees; for a user namespace, the one parent under which each member's
    /// subtree `{user}.PARENT` lies. Canonical names (lowercase A-labels, no trailing dot).
    public var domains: [String]
    /// The `tcp:N` keys it owns.
    public var tcpPorts: ClosedRange<UInt16>?
    /// Members by principal name: Unix users on the socket, token principals over HTTP.
    public var users: Set<String>
    /// Members by Unix group.
    public var groups: Set<String>
    /// Principal names that administer the namespace: they may add its domains themselves and
    /// delete or replace any member's route in it. They count as members.
    public var admins: Set<String>
    /// For the namespace as a whole.
    public var quota: Quota
    /// For each member.
    public var memberQuota: Quota

    public init(name: String, kind: Kind, domains: [String], tcpPorts: ClosedRange<UInt16>? = nil,
                users: Set<String> = [], groups: Set<String> = [], admins: Set<String> = [],
                quota: Quota = Quota(), memberQuota: Quota = Quota()) {
        self.name = name
        self.kind = kind
        self.domains = domains
        self.tcpPorts = tcpPorts
        self.users = users
        self.groups = groups
        self.admins = admins
        self.quota = quota
        self.memberQuota = memberQuota
    }
}
