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
/// Only runs of plain adds of free keys are kept: each undoes by removing its route, so that a
/// commit that does not go through (`RouteTable.abandonDrafts()`) puts the table back by
/// removing them, newest first. Any other change is drafted and rolled back as before.
struct ProvisionalChanges {
    /// One kept draft: its events (revisions in order) and the slot of each event's route
    /// (slots never move, and a later draft's rollback puts each route it touched back in the
    /// slot it had), from `next` on still to commit. Kept whole, so that keeping and
    /// committing copy no event.
    private struct Run {
        var events: [RouteEvent]
        var slots: [UInt32]
        var next = 0
    }

    /// The kept drafts, oldest first; the first event of the first is at the table's
    /// committed revision + 1.
    private var runs = Deque<Run>()

    var isEmpty: Bool { runs.isEmpty }

    /// The revision the next draft builds on: the last kept event's, when any.
    var top: UInt64? { runs.last?.events.last?.revision }

    /// The slot of the oldest kept event still to commit when `event` is that event (the same
    /// revision, kind, key and route), else nil. Compared where it is kept: a commit checks
    /// every event of its run, and a copy of each would retain and release all its strings.
    func slotOfFirst(ifItIs event: RouteEvent) -> UInt32? {
        guard !runs.isEmpty else { return nil }
        let next = runs[0].next
        guard runs[0].events[next].revision == event.revision, runs[0].events[next].kind == event.kind,
              runs[0].events[next].key == event.key, runs[0].events[next].route == event.route else { return nil }
        return runs[0].slots[next]
    }

    /// Every kept event still to commit with its route's slot, oldest first.
    var all: [(event: RouteEvent, slot: UInt32)] {
        runs.flatMap { run in (run.next..<run.events.count).map { (run.events[$0], run.slots[$0]) } }
    }

    /// Keeps a draft's events (`slots[i]` holding `events[i]`'s route).
    mutating func keep(_ events: [RouteEvent], slots: [UInt32]) {
        runs.append(Run(events: events, slots: slots))
    }

    /// The oldest kept event is committed.
    mutating func removeFirst() {
        runs[0].next += 1
        if runs[0].next == runs[0].events.count { runs.removeFirst() }
    }

    mutating func removeAll() {
        runs.removeAll()
    }

    /// Whether `route` is one of them: made after the last committed change (a kept route
    /// was added at its event's revision, and nothing changed it since).
    func holds(_ route: Route) -> Bool {
        guard let run = runs.first else { return false }
        return route.modRevision >= run.events[run.next].revision
    }
}
