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

    /// The kept drafts, oldest first, from `head` on (those before it are committed): an array
    /// rather than a deque, whose elements can be read in place (a deque's are copied out, with
    /// the run's arrays retained and released, on every read). The first event of the first is
    /// at the table's committed revision + 1.
    private var runs: [Run] = []
    private var head = 0

    var isEmpty: Bool { head == runs.count }

    /// The revision the next draft builds on: the last kept event's, when any.
    var top: UInt64? { isEmpty ? nil : runs[runs.count - 1].events.last?.revision }

    /// The slot of the oldest kept event still to commit when `source[index]` is that event
    /// (the same revision, kind, key and route), else nil. When `source` is the very array
    /// the draft kept (its writer committing its own run: the same storage) and `index` the
    /// one to commit, it is that event, and nothing needs comparing; otherwise (another
    /// writer's change) it is compared where it is kept, as a copy would retain and release
    /// all its strings.
    func slotOfFirst(ifItIs index: Int, of source: UnsafeBufferPointer<RouteEvent>) -> UInt32? {
        guard !isEmpty else { return nil }
        let next = runs[head].next
        let same = runs[head].events.withUnsafeBufferPointer { kept in
            if index == next, kept.baseAddress == source.baseAddress { return true }
            return kept[next].revision == source[index].revision && kept[next].kind == source[index].kind
                && kept[next].key == source[index].key && kept[next].route == source[index].route
        }
        return same ? runs[head].slots[next] : nil
    }

    /// Every kept event still to commit with its route's slot, oldest first.
    var all: [(event: RouteEvent, slot: UInt32)] {
        runs[head...].flatMap { run in (run.next..<run.events.count).map { (run.events[$0], run.slots[$0]) } }
    }

    /// Keeps a draft's events (`slots[i]` holding `events[i]`'s route).
    mutating func keep(_ events: [RouteEvent], slots: [UInt32]) {
        runs.append(Run(events: events, slots: slots))
    }

    /// The oldest kept event is committed.
    mutating func removeFirst() {
        runs[head].next += 1
        guard runs[head].next == runs[head].events.count else { return }
        // A run done: its arrays freed now, the array's committed front dropped once it is
        // most of it (a writer under load keeps drafts in flight, so it may never be empty).
        runs[head] = Run(events: [], slots: [])
        head += 1
        if head == runs.count {
            removeAll()
        } else if head >= 16, head * 2 >= runs.count {
            runs.removeFirst(head)
            head = 0
        }
    }

    mutating func removeAll() {
        runs.removeAll(keepingCapacity: true)
        head = 0
    }

    /// Whether `route` is one of them: made after the last committed change (a kept route
    /// was added at its event's revision, and nothing changed it since).
    func holds(_ route: Route) -> Bool {
        guard !isEmpty else { return false }
        return route.modRevision >= runs[head].events[runs[head].next].revision
    }
}
