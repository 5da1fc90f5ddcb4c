/// Counts for `stats`.
public struct TableStats: Hashable, Sendable {
    public var hosts: Int
    public var wildcards: Int
    public var tcp: Int
    public var total: Int { hosts + wildcards + tcp }
    public var tunnels: Int
    public var revision: UInt64
    /// The oldest revision the history can still replay.
    public var oldestRevision: UInt64
    public var subscribers: Int
    /// Sessions holding routes (including those in their grace period).
    public var sessions: Int
}
