/// Filters and paging for `list`. Empty fields match everything.
public struct RouteQuery: Hashable, Sendable {
    /// Keys starting with this text.
    public var prefix: String?
    /// Routes of this tunnel.
    public var tunnel: TunnelID?
    /// Ignored for non-admins, who always see their own routes only.
    public var owner: String?
    /// Routes of this kind.
    public var kind: RouteKind?
    /// Routes carrying every one of these labels.
    public var labels: [String: String]
    /// Start after this key (the previous page's `next`).
    public var after: String?
    /// At most this many routes; nil for all.
    public var limit: Int?
    /// Routes in this namespace (its domains and ports); one the table does not have lists none.
    public var namespace: String?

    /// A query; nil fields match everything.
    public init(prefix: String? = nil, tunnel: TunnelID? = nil, owner: String? = nil, kind: RouteKind? = nil,
                labels: [String: String] = [:], after: String? = nil, limit: Int? = nil) {
        self.prefix = prefix
        self.tunnel = tunnel
        self.owner = owner
        self.kind = kind
        self.labels = labels
        self.after = after
        self.limit = limit
    }
}

/// One page of `list`, in key order.
public struct RoutePage: Hashable, Sendable {
    /// The page's routes, in key order.
    public var routes: [Route]
    /// Pass as `after` for the next page; nil when this was the last.
    public var next: String?
    /// The revision the page was read at.
    public var revision: UInt64
    /// Keys of the page's routes the caller sees in full although another owner holds them:
    /// routes of a team namespace the caller belongs to (its members see each other's targets
    /// and labels).
    public var shared: Set<String> = []
}
