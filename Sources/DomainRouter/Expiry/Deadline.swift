/// A route's expiry as the table's deadline heap orders it (by time; a moved deadline is
/// re-queued lazily, see `TableState.expireDue`).
struct Deadline: Comparable {
    var at: Int64
    var slot: UInt32

    static func < (a: Deadline, b: Deadline) -> Bool { a.at < b.at }
}
