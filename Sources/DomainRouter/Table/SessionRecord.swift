/// A session's session-bound routes, and when its grace runs out once its connection closed.
struct SessionRecord {
    var slots: Set<UInt32> = []
    var endsAt: Int64?
}
