/// Counts for `stats`.
public struct TableStats: Hashable, Sendable {
    /// Exact host routes.
    public var hosts: Int
    /// Wildcard routes.
    public var wildcards: Int
    /// TCP port routes.
    public var tcp: Int
    /// All routes.
    public var total: Int { hosts + wildcards + tcp }
    /// Tunnels with at least one route.
    public var tunnels: Int
    /// The current revision.
    public var revision: UInt64
    /// The oldest revision the history can still replay.
    public var oldestRevision: UInt64
    /// Live subscriptions (watchers).
    public var subscribers: Int
    /// Sessions holding routes (including those in their grace period).
    public var sessions: Int
}
