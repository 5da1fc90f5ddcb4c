/// A table kept as a replica of one decided elsewhere (a shared store, or a daemon a gateway
/// follows): changes arrive as events, in revision order, and are applied as they are, with no
/// rule checked again; lookups, lists and watches then work as on any table.
extension RouteTable {
    /// Where a replica stands after `replicate(_:)`.
    public enum ReplicationProgress: Hashable, Sendable {
        /// Every event up to `revision` is applied (events at or below the table's revision
        /// were already there and are skipped).
        case applied(revision: UInt64)
        /// An event was missing: the table is at `revision`, and the next event given was
        /// `next`. The events after `revision` were not applied; fetch the missing ones, or load.
        case gap(revision: UInt64, next: UInt64)
    }

    /// Applies changes made elsewhere, in order, each at its own revision, publishing each to
    /// subscribers as if made here. Events this table already has are skipped, so the same
    /// change may arrive twice (from a write's reply and from a stream). The event of a draft
    /// kept in the table (`draft(_:after:keep:)`) commits it; any other event at its revision
    /// takes every kept draft out first.
    @discardableResult
    public func replicate(_ events: [RouteEvent]) -> ReplicationProgress {
        // Through a buffer: each event is read where it is, not copied out (with all its
        // strings), and a kept draft recognises its own events by their storage.
        events.withUnsafeBufferPointer { events in
            state.write { s in
                for i in events.indices where events[i].revision > s.revision {
                    guard events[i].revision == s.revision &+ 1 else {
                        return .gap(revision: s.revision, next: events[i].revision)
                    }
                    guard events[i].kind != .sync && events[i].kind != .reset else { continue }
                    // A draft kept in the table commits by its own event; any other change at
                    // its revision means it never will (nor anything drafted on it).
                    if !s.provisional.isEmpty {
                        if s.commitProvisional(i, of: events) { continue }
                        s.abandonProvisional()
                    }
                    s.replicate(events[i])
                }
                return .applied(revision: s.revision)
            }
        }
    }

    /// Replaces everything with `routes` at `revision` (a snapshot, or the start of a replica).
    /// `history` (events up to `revision`, oldest first) is what watches may replay. A key
    /// given twice keeps the later route. Every subscriber ends first: a stream with `reason`,
    /// a callback with a `reset` event; the revisions they saw mean nothing now.
    ///
    /// The new table is built aside, and takes the old one's place at once at the end: until
    /// then lookups, lists and changes go on against the old routes, as a Redis replica serves
    /// its old data during a full sync (changes made meanwhile are the store's to replay after
    /// `revision`). Loading a million routes takes seconds of this thread and, until the old
    /// table is freed, the memory of both. Call it where blocking a thread is allowed: not on
    /// an event loop.
    public func load(_ routes: [Route], revision: UInt64, history: [RouteEvent] = [],
                     reason: RouteError = .reset("the table was loaded anew; list again, then watch")) {
        var fresh = TableState.emptyForLoad(like: state.read { $0.loadSettings })
        for route in routes { fresh.restoreReplacing(route) }
        fresh.finishLoad(revision: revision, history: history)
        state.write { $0.takePlace(of: &fresh, reason: reason) }
        // `fresh` holds the old table now, freed here, outside the lock.
    }

    /// `load(_:revision:history:reason:)` with the routes handed over a chunk at a time by
    /// `next` (nil: no more), so that a caller can read and decode the next chunk while this
    /// one is stored. A throw leaves the table as it was.
    package func load(revision: UInt64, history: [RouteEvent], reason: RouteError,
                      chunks next: () throws -> [Route]?) throws {
        var fresh = TableState.emptyForLoad(like: state.read { $0.loadSettings })
        while let chunk = try next() {
            for route in chunk { fresh.restoreReplacing(route) }
        }
        fresh.finishLoad(revision: revision, history: history)
        state.write { $0.takePlace(of: &fresh, reason: reason) }
    }
}

extension RouteTable {
    /// The route stored under `key` (of `kind`) now, expired or not: what a store records as
    /// the route a change replaced or removed.
    package func stored(key: String, kind: RouteKind) -> Route? {
        let routeKey: RouteKey
        switch kind {
        case .host: routeKey = .host(key)
        case .wildcard: routeKey = .wildcard(String(key.dropFirst(2)))
        case .tcp:
            guard let port = UInt16(key.dropFirst(4)) else { return nil }
            routeKey = .tcp(port)
        }
        return state.read { s in s.findSlot(routeKey).map { s.route($0) } }
    }

    /// The routes whose TTL has run out that the sweep has not removed yet (it runs every
    /// 200 ms): what a store counts as already lapsed, as lookups do.
    package func lapsedRoutes() -> [Route] {
        let now = self.now
        return state.read { s in s.lapsed(now: now).map { s.route($0) } }
    }
}
