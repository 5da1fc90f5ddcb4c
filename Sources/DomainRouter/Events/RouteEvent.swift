/// One change to the table, as watchers and the history see it.
public struct RouteEvent: Hashable, Sendable {
    /// What happened to the route.
    public enum Kind: String, Hashable, Sendable {
        case add
        case update
        case delete
        case expire
        /// Not a change: a subscription's marker that any replay is done and it is live.
        case sync
        /// Not a change: the table was loaded anew from its store, so revisions before this
        /// one mean nothing now; a callback subscription gets it last (a stream ends with
        /// `RouteError.reset` instead).
        case reset
    }

    /// What happened.
    public var kind: Kind
    /// The revision this change made (for `sync`, the revision the subscriber is caught up to).
    public var revision: UInt64
    /// The route's key; empty for `sync`.
    public var key: String
    /// The route after an add or update, or as it was when deleted or expired; nil for `sync`.
    public var route: Route?

    /// An event; `route` is nil only for `sync`.
    public init(kind: Kind, revision: UInt64, key: String, route: Route?) {
        self.kind = kind
        self.revision = revision
        self.key = key
        self.route = route
    }
}

/// Which events a subscriber receives. Empty fields match everything.
public struct EventFilter: Hashable, Sendable {
    /// Keys starting with this text.
    public var prefix: String?
    /// Routes of this tunnel.
    public var tunnel: TunnelID?
    /// Routes of this owner (the server sets it for non-admin watchers), and with `shared`,
    /// routes whose keys lie there too (a team's routes its members see).
    public var owner: String?
    /// Beside `owner`'s routes, routes whose keys lie here, whoever owns them.
    public var shared: NamespaceArea?
    /// Keys in this area only (`watch --namespace`: what one namespace owns).
    public var area: NamespaceArea?

    /// A filter; nil fields match everything.
    public init(prefix: String? = nil, tunnel: TunnelID? = nil, owner: String? = nil,
                shared: NamespaceArea? = nil, area: NamespaceArea? = nil) {
        self.prefix = prefix
        self.tunnel = tunnel
        self.owner = owner
        self.shared = shared
        self.area = area
    }

    /// Whether `event` passes the filter (a `sync` or `reset` marker always does).
    public func matches(_ event: RouteEvent) -> Bool {
        if event.kind == .sync || event.kind == .reset { return true }
        if let prefix, !event.key.utf8.starts(with: prefix.utf8) { return false }
        if let tunnel, event.route?.tunnel != tunnel { return false }
        if let area, !area.contains(key: event.key) { return false }
        if let owner, event.route?.owner != owner, !(shared?.contains(key: event.key) ?? false) { return false }
        return true
    }
}
