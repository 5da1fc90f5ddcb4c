import HeapModule

/// Giving memory back. Slots are reused through a free list and never move (indexes, tunnels
/// and sessions name them by number), so a table that shrinks keeps the pages of its largest
/// size. Once it holds no route at all, nothing names a slot any more, and the storage can
/// start again small: a gateway whose tunnels all went (a bulk load deleted, a fleet of
/// session routes expired) returns to its idle footprint. The event history is kept: watchers
/// resume from it.
extension TableState {
    /// Storage smaller than this is kept as it is.
    static let storageReleaseThreshold = 4096

    /// Starts the slot, index and tunnel storage afresh when the table is empty and has grown
    /// past `storageReleaseThreshold` slots; returns whether it did. Call it at a safe point,
    /// outside any loop over slots (the sweeper does).
    mutating func releaseStorageIfEmpty() -> Bool {
        guard hostCount == 0, wildcardCount == 0, tcpCount == 0,
              slots.count > Self.storageReleaseThreshold || tunnels.count > Self.storageReleaseThreshold,
              freeSlots.count == slots.count, freeTunnels.count == tunnels.count else { return false }
        slots = RawBuffer<Slot>(capacity: 1024)
        freeSlots = []
        hosts = HashIndex()
        wildcards = HashIndex()
        tcp = []
        sorted = SortedKeyList()
        tunnels = RawBuffer<TunnelRecord>(capacity: 1024)
        freeTunnels = []
        tunnelIndex = HashIndex()
        labels = [:]
        access = [:]
        // Deadlines of removed routes are skipped when they come due; with no slot left they
        // would name slots that no longer exist.
        deadlines = Heap<Deadline>()
        compactArena()
        return true
    }
}

extension RouteTable {
    /// Once the table holds no route, starts its storage afresh, so that the memory of its
    /// largest size goes back (the event history stays); returns whether it did. Cheap when
    /// there is nothing to do; the daemon calls it with each expiry sweep.
    @discardableResult
    public func releaseStorageIfEmpty() -> Bool {
        let due = state.read { s in
            s.hostCount + s.wildcardCount + s.tcpCount == 0
                && max(s.slots.count, s.tunnels.count) > TableState.storageReleaseThreshold
        }
        guard due else { return false }
        return state.write { $0.releaseStorageIfEmpty() }
    }
}
