import DequeModule

/// Adds a drafting store has drafted and is committing, kept in the table meanwhile (see
/// `RouteTable.draft(_:after:keep:)`), rather than taken out again and put back once
/// committed: the next draft builds on them as they stand, and their commit
/// (`RouteTable.replicate(_:)` given their events) only makes them visible.
///
/// Until then every read passes over them: their slots are flagged `Slot.provisional`, they
/// are not in the sorted key list, the revision readers see is the last committed one, and
/// their events are published at the commit. What the writer's checks count — names taken,
/// namespace quotas, the tallies of names below a name — counts them, as names reserved.
///
/// Only runs of plain adds of free keys are kept: each undoes by removing its route, so that
/// a commit that does not go through (`abandon`) puts the table back by removing them, newest
/// first. Any other change is drafted and rolled back as before.
struct ProvisionalChanges {
    /// Their events, in revision order, from the table's committed revision + 1.
    var events = Deque<RouteEvent>()
    /// The slot of each event's route. (Slots never move, and a draft's rollback puts each
    /// route it touched back in the slot it had.)
    var slots = Deque<UInt32>()

    var isEmpty: Bool { events.isEmpty }

    /// The revision the next draft builds on: the last kept event's, when any.
    var top: UInt64? { events.last?.revision }

    /// Whether `route` is one of them: made after the last committed change (a kept route
    /// was added at its event's revision, and nothing changed it since).
    func holds(_ route: Route) -> Bool {
        guard let first = events.first else { return false }
        return route.modRevision >= first.revision
    }
}
