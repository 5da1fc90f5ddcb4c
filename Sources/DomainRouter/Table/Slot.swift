/// One route's storage: 128 bytes, cache-line aligned in a `RawBuffer`, the first line holding
/// everything a lookup reads. Keys up to 24 bytes (most names under a base domain) sit inline;
/// longer ones, and targets, live in the table's byte arena. A UUID tunnel id is copied into
/// every slot of its tunnel, so a lookup never visits the tunnel record. Slots are recycled
/// through a free list; `live` tells a used one.
struct Slot: BitwiseCopyable {
    static let none: UInt32 = .max
    static let never: Int64 = .max
    static let inlineKeyCapacity = 24
    /// `flags`: the tunnel id is the UUID in `uuidHigh`/`uuidLow`.
    static let uuidTunnel: UInt8 = 1
    /// `flags`: the route has labels (in `TableState.labels`).
    static let hasLabels: UInt8 = 2
    /// `flags`: the route has access rules (in `TableState.access`).
    static let hasAccess: UInt8 = 4
    /// `flags`: a drafted add kept in place while its store commits it (see
    /// `ProvisionalChanges`): every read passes over it.
    static let provisional: UInt8 = 8

    // First cache line.
    var key: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var keyLength: UInt8 = 0
    var kind: RouteKind = .host
    var live = false
    var flags: UInt8 = 0
    var owner: UInt32 = 0
    var tunnel: UInt32 = Slot.none
    var targetOffset: UInt32 = 0
    var expiresAt: Int64 = Slot.never
    var uuidHigh: UInt64 = 0
    var uuidLow: UInt64 = 0
    // Second cache line.
    var prev: UInt32 = Slot.none
    var next: UInt32 = Slot.none
    var session: UInt64 = 0
    var createdAt: Int64 = 0
    var updatedAt: Int64 = 0
    var ttl: Int64 = 0
    var createRevision: UInt64 = 0
    var modRevision: UInt64 = 0
    var targetLength: UInt16 = 0
}
