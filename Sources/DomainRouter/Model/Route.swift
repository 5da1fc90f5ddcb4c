/// The three kinds of route key.
public enum RouteKind: String, Hashable, Sendable, CaseIterable, BitwiseCopyable {
    /// `foo.example.com`, matched by HTTP Host header and TLS SNI.
    case host
    /// `*.foo.example.com`, matching names below `foo.example.com` that nothing more specific claims.
    case wildcard
    /// `tcp:49000`, a TCP port.
    case tcp
}

/// A parsed, canonical key: what a route is registered under, or a tunnel to act on as a whole.
public enum RouteKey: Hashable, Sendable, CustomStringConvertible {
    /// A canonical host name.
    case host(String)
    /// A wildcard; the payload is the canonical parent (`foo.example.com` for `*.foo.example.com`).
    case wildcard(String)
    /// A TCP port.
    case tcp(UInt16)
    /// A whole tunnel (`uuid:ID`, alias `tunnel:ID`).
    case tunnel(TunnelID)

    /// The canonical text: `foo.example.com`, `*.foo.example.com`, `tcp:49000`, `uuid:ID`.
    public var description: String {
        switch self {
        case .host(let name): return name
        case .wildcard(let parent): return "*." + parent
        case .tcp(let port): return "tcp:\(port)"
        case .tunnel(let id): return "uuid:\(id.rawValue)"
        }
    }

    /// The kind of route this key names; nil for a tunnel.
    public var kind: RouteKind? {
        switch self {
        case .host: return .host
        case .wildcard: return .wildcard
        case .tcp: return .tcp
        case .tunnel: return nil
        }
    }
}

/// One route as the table reports it: a value, detached from the table.
public struct Route: Hashable, Sendable {
    /// The canonical key (`foo.example.com`, `*.foo.example.com`, `tcp:49000`).
    public var key: String
    /// Host, wildcard or TCP.
    public var kind: RouteKind
    /// The tunnel the route goes to.
    public var tunnel: TunnelID
    /// Where the gateway forwards to; hidden (nil) from those who may not see it.
    public var target: RouteTarget?
    /// Free-form labels; hidden (empty) from those who may not see them.
    public var labels: [String: String]
    /// Which client addresses a gateway lets through to this route.
    public var access: AccessRules
    /// The principal that owns the route (and its tunnel).
    public var owner: String
    /// The session (connection) the route is bound to, if any.
    public var session: UInt64?
    /// When the route was added.
    public var createdAt: Timestamp
    /// When the route last changed (added, refreshed, touched).
    public var updatedAt: Timestamp
    /// When the route lapses; nil for no expiry.
    public var expiresAt: Timestamp?
    /// The TTL that `touch` renews by default; nil when the route has none.
    public var ttl: Duration?
    /// The revision that added the route.
    public var createRevision: UInt64
    /// The revision that last changed the route.
    public var modRevision: UInt64

    /// A route from its fields: for a replica that receives routes from elsewhere (a store,
    /// a daemon's watch), and for tests.
    public init(key: String, kind: RouteKind, tunnel: TunnelID, target: RouteTarget? = nil,
                labels: [String: String] = [:], access: AccessRules = AccessRules(), owner: String, session: UInt64? = nil,
                createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp? = nil,
                ttl: Duration? = nil, createRevision: UInt64, modRevision: UInt64) {
        self.key = key
        self.kind = kind
        self.tunnel = tunnel
        self.target = target
        self.labels = labels
        self.access = access
        self.owner = owner
        self.session = session
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.ttl = ttl
        self.createRevision = createRevision
        self.modRevision = modRevision
    }

    /// Whether `principal` may see this route's target, labels and access rules.
    public func isVisible(to principal: Principal) -> Bool {
        principal.isAdmin || principal.name == owner
    }

    /// This route as `principal` may see it: another owner's target, labels and access rules
    /// are removed for non-admins.
    public func redacted(for principal: Principal) -> Route {
        guard !isVisible(to: principal) else { return self }
        var copy = self
        copy.target = nil
        copy.labels = [:]
        copy.access = AccessRules()
        return copy
    }
}

/// A tunnel and the routes it holds, the answer to a `uuid:` lookup.
public struct TunnelInfo: Hashable, Sendable {
    /// The tunnel's id.
    public var id: TunnelID
    /// The principal that owns the tunnel and its routes.
    public var owner: String
    /// The latest expiry among its routes; nil when any route does not expire.
    public var expiresAt: Timestamp?
    /// The tunnel's routes, in key order.
    public var routes: [Route]
}

/// How a lookup matched.
public enum MatchKind: String, Hashable, Sendable {
    case exact
    case wildcard
}

/// The answer to a host, SNI, key or port lookup.
public struct LookupResult: Hashable, Sendable {
    /// The route that matched.
    public var route: Route
    /// Whether the name matched exactly or through a wildcard.
    public var match: MatchKind
    /// The key that matched (the route's key: the name itself, or the wildcard).
    public var via: String
}
