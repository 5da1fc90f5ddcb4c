import DomainRouter

/// A question to the change history (`history`): the changes to one key, or to one owner's or
/// one tunnel's routes, newest first, a page at a time.
package struct HistoryQuery: Sendable, Hashable {
    /// Changes to this key (exactly).
    package var key: String?
    /// Changes to routes of this owner (before or after the change), and with `shared`, changes
    /// to keys there too.
    package var owner: String?
    /// Beside `owner`'s, changes to keys in this area, whoever owns them (a team's routes).
    package var shared: NamespaceArea?
    /// Changes to routes of this tunnel.
    package var tunnel: String?
    /// Changes at or after this time.
    package var since: Timestamp?
    /// Changes below this revision: the previous page's `next`.
    package var before: UInt64?
    /// At most this many changes.
    package var limit: Int

    package init(key: String? = nil, owner: String? = nil, tunnel: String? = nil, since: Timestamp? = nil,
                 before: UInt64? = nil, limit: Int = 100) {
        self.key = key
        self.owner = owner
        self.tunnel = tunnel
        self.since = since
        self.before = before
        self.limit = limit
    }
}

/// One recorded change: when, which revision, who (principal and peer), and the route before
/// and after it.
package struct HistoryEntry: Sendable, Hashable {
    package var revision: UInt64
    package var at: Timestamp
    package var kind: RouteEvent.Kind
    package var key: String
    /// The principal the change was made as (`routerd` for expiry).
    package var principal: String
    /// Where the request came from (`uid 1000 pid 42`, `token alice from 10.0.0.5:51234`); empty for expiry.
    package var peer: String
    /// The route before the change; nil for an add.
    package var before: Route?
    /// The route after the change; nil for a delete or an expiry.
    package var after: Route?

    package init(revision: UInt64, at: Timestamp, kind: RouteEvent.Kind, key: String, principal: String, peer: String,
                 before: Route?, after: Route?) {
        self.revision = revision
        self.at = at
        self.kind = kind
        self.key = key
        self.principal = principal
        self.peer = peer
        self.before = before
        self.after = after
    }
}

/// A page of history, newest first; `next` is the `before` of the following page.
package struct HistoryPage: Sendable {
    package var entries: [HistoryEntry]
    package var next: UInt64?

    package init(entries: [HistoryEntry], next: UInt64?) {
        self.entries = entries
        self.next = next
    }
}

extension RouteStore {
    /// Stores that keep no history (memory, and the shared stores: see `SharedDraftingStore`) refuse, saying where history lives.
    package func history(_ query: HistoryQuery, completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void) {
        completion(.failure(.invalidArgument("this routerd keeps no change history: start it with --db FILE (a SQLite state file) to record one")))
    }
}
