#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import HeapModule

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

/// A tunnel: its owner and the head of the doubly linked list of its routes' slots. A UUID
/// id lives in the slots; any other id as bytes in the arena (`textLength` > 0).
struct TunnelRecord: BitwiseCopyable {
    var head: UInt32
    var count: UInt32
    var owner: UInt32
    var textOffset: UInt32
    var textLength: UInt8
}

/// How many routes below a name each owner holds; one owner inline, others spill to a map.
struct OwnerTally {
    var owner: UInt32
    var count: UInt32
    var more: [UInt32: UInt32]?

    init(owner: UInt32) {
        self.owner = owner
        count = 1
    }

    mutating func add(_ o: UInt32) {
        if count == 0 { owner = o; count = 1 } else if owner == o { count += 1 } else { more?[o, default: 0] += 1; if more == nil { more = [o: 1] } }
    }

    /// Returns false when the tally is empty afterwards.
    mutating func remove(_ o: UInt32) -> Bool {
        if owner == o && count > 0 {
            count -= 1
            if count == 0, let (next, n) = more?.first {
                owner = next
                count = n
                more![next] = nil
                if more!.isEmpty { more = nil }
            }
        } else if let n = more?[o] {
            more![o] = n > 1 ? n - 1 : nil
            if more!.isEmpty { more = nil }
        }
        return count > 0
    }

    /// An owner other than `o` holding something here, if any.
    func other(than o: UInt32) -> UInt32? {
        if count > 0 && owner != o { return owner }
        return more?.keys.first { $0 != o }
    }
}

struct Deadline: Comparable {
    var at: Int64
    var slot: UInt32

    static func < (a: Deadline, b: Deadline) -> Bool { a.at < b.at }
}

struct SessionRecord {
    var slots: Set<UInt32> = []
    var endsAt: Int64?
}

/// Everything the table holds; mutated only under the table's write lock. Noncopyable, so
/// that a lookup always borrows it in place and the raw buffers have one owner.
struct TableState: ~Copyable {
    let config: RouteTableConfiguration

    let arena = ByteArena(capacity: 1 << 16)
    let hasher = ByteHash()
    var random = RandomPool()
    var slots = RawBuffer<Slot>(capacity: 1024)
    var freeSlots: [UInt32] = []
    var hosts = HashIndex()
    var wildcards = HashIndex()
    var tcp: [UInt32] = []
    var sorted = SortedKeyList()
    var tunnels = RawBuffer<TunnelRecord>(capacity: 1024)
    var freeTunnels: [UInt32] = []
    var tunnelIndex = HashIndex()
    var labels: [UInt32: [String: String]] = [:]
    var owners: [String] = []
    var ownerIDs: [String: UInt32] = [:]
    var recentOwner: (name: String, id: UInt32)?
    var below: [String: OwnerTally] = [:]
    var sessions: [UInt64: SessionRecord] = [:]
    var endingSessions: Set<UInt64> = []
    var deadlines = Heap<Deadline>()
    var revision: UInt64 = 0
    var history = Deque<RouteEvent>()
    /// Events held back while an atomic batch runs; published only when it commits.
    var deferredEvents: [RouteEvent]?
    var subscribers: [UInt64: Subscriber] = [:]
    var nextSubscriber: UInt64 = 1
    var hostCount = 0
    var wildcardCount = 0
    var tcpCount = 0

    init(config: RouteTableConfiguration) {
        self.config = config
        // The ring fills to its limit once and stays there: reserve it now rather than copying it
        // at each doubling (the pages are not touched, so not resident, until events arrive).
        history.reserveCapacity(config.historyLimit)
    }

    // MARK: Keys and ids

    /// The bytes of a slot's key (inline, or in the arena).
    @inline(__always)
    static func keyBytes(_ p: UnsafePointer<Slot>, _ arena: ByteArena) -> UnsafeBufferPointer<UInt8> {
        let n = Int(p.pointee.keyLength)
        if n <= Slot.inlineKeyCapacity {
            return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
        }
        return arena.bytes(at: UInt32(truncatingIfNeeded: p.pointee.key.0), length: n)
    }

    @inline(__always)
    func keyBytes(_ s: UInt32) -> UnsafeBufferPointer<UInt8> {
        TableState.keyBytes(slots.pointer(Int(s)), arena)
    }

    func keyString(_ s: UInt32) -> String {
        String(decoding: keyBytes(s), as: UTF8.self)
    }

    /// A key accessor for the sorted list, valid until the slots or the arena move.
    var keyOf: SortedKeyList.KeyOf {
        let base = slots.base
        let arena = self.arena
        return { TableState.keyBytes(base + Int($0), arena) }
    }

    @inline(__always)
    func keyEquals(_ s: UInt32, offset: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let key = keyBytes(s)
        guard key.count == bytes.count + offset else { return false }
        return memcmp(key.baseAddress! + offset, bytes.baseAddress!, bytes.count) == 0
    }

    @inline(__always)
    func findHost(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        hosts.find(hash: hash) { keyEquals($0, offset: 0, bytes) }
    }

    @inline(__always)
    func findWildcard(parent bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        wildcards.find(hash: hash) { keyEquals($0, offset: 2, bytes) }
    }

    func withTunnelIDBytes<R>(_ t: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let record = tunnels[Int(t)]
        if record.textLength == 0 {
            let head = slots[Int(record.head)]
            return TunnelID.withUUIDBytes(head.uuidHigh, head.uuidLow, body)
        }
        return body(arena.bytes(at: record.textOffset, length: Int(record.textLength)))
    }

    /// The tunnel id of the route in slot `s`.
    func tunnelID(ofSlot s: UInt32) -> TunnelID {
        let slot = slots[Int(s)]
        if slot.flags & Slot.uuidTunnel != 0 {
            return TunnelID(uuidBits: slot.uuidHigh, slot.uuidLow)
        }
        let record = tunnels[Int(slot.tunnel)]
        return TunnelID(unchecked: arena.string(at: record.textOffset, length: Int(record.textLength)))
    }

    func findTunnel(_ id: TunnelID) -> UInt32? {
        let uuid = id.uuid
        return id.withUTF8 { bytes in
            tunnelIndex.find(hash: hasher(bytes)) { t in
                let record = tunnels[Int(t)]
                if let uuid {
                    guard record.textLength == 0, record.head != Slot.none else { return false }
                    let head = slots[Int(record.head)]
                    return head.uuidHigh == uuid.0 && head.uuidLow == uuid.1
                }
                return Int(record.textLength) == bytes.count
                    && memcmp(arena.base + Int(record.textOffset), bytes.baseAddress!, bytes.count) == 0
            }
        }
    }

    /// The slot holding `key` (live, possibly expired but not yet swept).
    func findSlot(_ key: RouteKey) -> UInt32? {
        switch key {
        case .host(let name):
            return HostNames.withBytes(name) { findHost($0, hash: hasher($0)) }
        case .wildcard(let parent):
            return HostNames.withBytes(parent) { findWildcard(parent: $0, hash: hasher($0)) }
        case .tcp(let port):
            guard !tcp.isEmpty, tcp[Int(port)] != 0 else { return nil }
            return tcp[Int(port)] - 1
        case .tunnel:
            return nil
        }
    }

    @inline(__always)
    func isExpired(_ s: UInt32, now: Int64) -> Bool {
        slots[Int(s)].expiresAt <= now
    }

    @inline(__always)
    func isExpired(_ s: UInt32, now: () -> Int64) -> Bool {
        let expires = slots[Int(s)].expiresAt
        return expires != Slot.never && expires <= now()
    }

    func ownerName(of s: UInt32) -> String {
        owners[Int(slots[Int(s)].owner)]
    }

    func ownerID(of s: UInt32) -> UInt32 {
        slots[Int(s)].owner
    }

    // MARK: Targets

    /// Stores a target in the arena as `[kind][port, little-endian][host or path]`.
    func encodeTarget(_ target: RouteTarget) -> (UInt32, UInt16) {
        var bytes: [UInt8]
        switch target {
        case .address(let host, let port):
            bytes = [0, UInt8(port & 0xFF), UInt8(port >> 8)] + Array(host.utf8)
        case .unixSocket(let path):
            bytes = [1, 0, 0] + Array(path.utf8)
        }
        let offset = bytes.withUnsafeBufferPointer { arena.append($0) }
        return (offset, UInt16(bytes.count))
    }

    func decodeTarget(_ slot: Slot) -> RouteTarget? {
        guard slot.targetLength > 0 else { return nil }
        let bytes = arena.bytes(at: slot.targetOffset, length: Int(slot.targetLength))
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        if bytes[0] == 1 { return .unixSocket(path: text) }
        return .address(host: text, port: UInt16(bytes[1]) | UInt16(bytes[2]) << 8)
    }

    /// The route in slot `s`; `key` saves rebuilding the key when the caller has it.
    func route(_ s: UInt32, key: String? = nil, tunnel: TunnelID? = nil) -> Route {
        let slot = slots[Int(s)]
        return Route(
            key: key ?? keyString(s),
            kind: slot.kind,
            tunnel: tunnel ?? tunnelID(ofSlot: s),
            target: decodeTarget(slot),
            labels: slot.flags & Slot.hasLabels == 0 ? [:] : labels[s] ?? [:],
            owner: owners[Int(slot.owner)],
            session: slot.session == 0 ? nil : slot.session,
            createdAt: Timestamp(millisecondsSinceEpoch: slot.createdAt),
            updatedAt: Timestamp(millisecondsSinceEpoch: slot.updatedAt),
            expiresAt: slot.expiresAt == Slot.never ? nil : Timestamp(millisecondsSinceEpoch: slot.expiresAt),
            ttl: slot.ttl == 0 ? nil : .milliseconds(slot.ttl),
            createRevision: slot.createRevision,
            modRevision: slot.modRevision
        )
    }

    // MARK: Lookup

    /// Exact match first, then the most specific wildcard (the longest suffix). `name` is
    /// the canonical name as a String when the caller already has one.
    func lookupHost(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, name: String?,
                    now: () -> Int64) -> LookupResult? {
        if let s = findHost(bytes, hash: hash), !isExpired(s, now: now) {
            let route = route(s, key: name)
            return LookupResult(route: route, match: .exact, via: route.key)
        }
        guard wildcardCount > 0 else { return nil }
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: ".") {
            let suffix = UnsafeBufferPointer(rebasing: bytes[(i + 1)...])
            if let s = findWildcard(parent: suffix, hash: hasher(suffix)), !isExpired(s, now: now) {
                let route = route(s)
                return LookupResult(route: route, match: .wildcard, via: route.key)
            }
        }
        return nil
    }

    /// The live, unexpired slots of a tunnel, in key order.
    func members(of t: UInt32, now: Int64) -> [UInt32] {
        var found: [UInt32] = []
        var s = tunnels[Int(t)].head
        while s != Slot.none {
            if !isExpired(s, now: now) { found.append(s) }
            s = slots[Int(s)].next
        }
        return found.sorted { SortedKeyList.compareBytes(keyBytes($0), keyBytes($1)) < 0 }
    }

    func tunnelInfo(_ id: TunnelID, now: Int64) -> TunnelInfo? {
        guard let t = findTunnel(id) else { return nil }
        let routes = members(of: t, now: now).map { route($0) }
        guard !routes.isEmpty else { return nil }
        let expiries = routes.map { $0.expiresAt }
        return TunnelInfo(
            id: id, owner: owners[Int(tunnels[Int(t)].owner)],
            expiresAt: expiries.contains(nil) ? nil : expiries.compactMap { $0 }.max(),
            routes: routes)
    }

    // MARK: Names, zones and ownership

    /// The base domain `name` is at or below, if any (longest first).
    func baseDomain(of name: String) -> String? {
        config.baseDomains.first { TableState.baseStart(of: name, under: $0) != nil }
    }

    /// Whether `name` is one label directly under `base` (`foo.example.com` under `example.com`).
    static func isChild(_ name: String, of base: String) -> Bool {
        guard let start = baseStart(of: name, under: base), start > 1 else { return false }
        return HostNames.withBytes(name) { memchr($0.baseAddress!, 0x2E, start - 1) == nil }
    }

    /// Where `base` starts in `name` when `name` is `base` (0) or below it (after a dot); nil
    /// otherwise. Canonical names are ASCII: bytes are compared, not Characters (String.hasSuffix
    /// compares by Unicode rules, and slowly).
    static func baseStart(of name: String, under base: String) -> Int? {
        HostNames.withBytes(name) { n in
            HostNames.withBytes(base) { b -> Int? in
                guard n.count >= b.count, !b.isEmpty else { return nil }
                let start = n.count - b.count
                guard start == 0 || n[start - 1] == UInt8(ascii: ".") else { return nil }
                return memcmp(n.baseAddress! + start, b.baseAddress!, b.count) == 0 ? start : nil
            }
        }
    }

    static func labelCount(_ name: Substring) -> Int {
        name.utf8.reduce(1) { $1 == UInt8(ascii: ".") ? $0 + 1 : $0 }
    }

    /// Labels at the top of a name's zone that never count as ancestors: the base domain's,
    /// or the top-level domain for custom names.
    func floorLabels(of name: String) -> Int {
        baseDomain(of: name).map { TableState.labelCount(Substring($0)) } ?? 1
    }

    /// The names whose subtree a route occupies, for the "below" tallies: a host's strict
    /// ancestors, a wildcard's parent and its strict ancestors, all above the zone's floor.
    func tallyNames(for key: RouteKey) -> [Substring] {
        let name: String
        var names: [Substring] = []
        switch key {
        case .host(let n): name = n
        case .wildcard(let parent):
            name = parent
        default: return []
        }
        // A host right under a base domain (the common case) has no ancestors above the floor.
        if case .host = key, config.baseDomains.count == 1, TableState.isChild(name, of: config.baseDomains[0]) {
            return []
        }
        var labels = TableState.labelCount(Substring(name))
        let floor = floorLabels(of: name)
        if case .wildcard = key, labels > floor { names.append(Substring(name)) }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            labels -= 1
            if labels <= floor { break }
            names.append(rest)
        }
        return names
    }

    func conflictHolder(_ s: UInt32, for principal: Principal) -> (Conflict.Holder?, Bool) {
        let owner = ownerName(of: s)
        let isOwn = owner == principal.name
        guard principal.isAdmin || isOwn else { return (nil, false) }
        let slot = slots[Int(s)]
        return (Conflict.Holder(
            owner: owner, tunnel: tunnelID(ofSlot: s),
            expiresAt: slot.expiresAt == Slot.never ? nil : Timestamp(millisecondsSinceEpoch: slot.expiresAt)), isOwn)
    }

    /// Whether another owner holds a name above `key` (or its wildcard), or anything below it.
    func subtreeConflict(_ key: RouteKey, owner: UInt32?, principal: Principal) -> Conflict? {
        let name: String
        switch key {
        case .host(let n): name = n
        case .wildcard(let parent): name = parent
        default: return nil
        }
        let floor = floorLabels(of: name)
        func foreign(_ s: UInt32?) -> UInt32? {
            guard let s, owner.map({ ownerID(of: s) != $0 }) ?? true else { return nil }
            return s
        }
        func conflict(_ s: UInt32, _ relation: Conflict.Relation) -> Conflict {
            let (holder, _) = conflictHolder(s, for: principal)
            return Conflict(key: key.description, relation: relation, heldKey: keyString(s),
                            holder: holder, isOwn: false)
        }
        if case .wildcard = key, let s = foreign(findSlot(.host(name))) {
            return conflict(s, .above)
        }
        var labels = TableState.labelCount(Substring(name))
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            labels -= 1
            if labels <= floor { break }
            let ancestor = String(rest)
            if let s = foreign(findSlot(.host(ancestor))) { return conflict(s, .above) }
            if let s = foreign(findSlot(.wildcard(ancestor))) { return conflict(s, .above) }
        }
        if let tally = below[name], let other = tally.other(than: owner ?? .max) {
            let otherName = owners[Int(other)]
            let visible = principal.isAdmin
            return Conflict(key: key.description, relation: .below, heldKey: name,
                            holder: visible ? Conflict.Holder(owner: otherName, tunnel: nil, expiresAt: nil) : nil,
                            isOwn: false)
        }
        return nil
    }

    // MARK: Changing

    mutating func internOwner(_ name: String) -> UInt32 {
        if let id = knownOwner(name) { return id }
        let id = UInt32(owners.count)
        owners.append(name)
        ownerIDs[name] = id
        recentOwner = (name, id)
        return id
    }

    /// The id of an owner seen before. The last one is kept aside: changes mostly come in runs
    /// from one owner, and the comparison is cheaper than hashing the name. (Owners are never
    /// forgotten, so it cannot go stale.)
    mutating func knownOwner(_ name: String) -> UInt32? {
        if let recent = recentOwner, recent.name == name { return recent.id }
        guard let id = ownerIDs[name] else { return nil }
        recentOwner = (name, id)
        return id
    }

    mutating func nextRevision() -> UInt64 {
        revision += 1
        return revision
    }

    /// Appends to the history and hands the event to every subscriber.
    mutating func publish(_ event: RouteEvent) {
        if deferredEvents != nil {
            deferredEvents!.append(event)
            return
        }
        if history.count >= config.historyLimit { history.removeFirst() }
        history.append(event)
        guard !subscribers.isEmpty else { return }
        var gone: [UInt64] = []
        for (id, subscriber) in subscribers where !subscriber.deliver(event) {
            gone.append(id)
        }
        for id in gone { subscribers[id] = nil }
    }

    /// The port of a `tcp:N` key's bytes.
    static func port(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        key.dropFirst(4).reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// Allocates a slot holding `key`, not yet indexed or linked.
    mutating func newSlot(_ key: RouteKey) -> UInt32 {
        var slot = Slot()
        let text = key.description
        let length = text.utf8.count
        slot.keyLength = UInt8(length)
        slot.kind = key.kind!
        slot.live = true
        if length <= Slot.inlineKeyCapacity {
            HostNames.withBytes(text) { bytes in
                withUnsafeMutableBytes(of: &slot.key) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            }
        } else {
            slot.key.0 = UInt64(arena.append(text))
        }
        if let free = freeSlots.popLast() {
            slots[Int(free)] = slot
            return free
        }
        slots.append(slot)
        return UInt32(slots.count - 1)
    }

    mutating func insertIndexes(_ s: UInt32) {
        let key = keyBytes(s)
        switch slots[Int(s)].kind {
        case .host:
            hosts.insert(hash: hasher(key), slot: s)
            hostCount += 1
        case .wildcard:
            wildcards.insert(hash: hasher(UnsafeBufferPointer(rebasing: key[2...])), slot: s)
            wildcardCount += 1
        case .tcp:
            if tcp.isEmpty { tcp = Array(repeating: 0, count: 65536) }
            tcp[TableState.port(key)] = s + 1
            tcpCount += 1
        }
        let keyOf = self.keyOf
        sorted.insert(s, key: key, keyOf)
    }

    mutating func removeIndexes(_ s: UInt32) {
        let key = keyBytes(s)
        switch slots[Int(s)].kind {
        case .host:
            hosts.remove(hash: hasher(key), slot: s)
            hostCount -= 1
        case .wildcard:
            wildcards.remove(hash: hasher(UnsafeBufferPointer(rebasing: key[2...])), slot: s)
            wildcardCount -= 1
        case .tcp:
            tcp[TableState.port(key)] = 0
            tcpCount -= 1
        }
        let keyOf = self.keyOf
        sorted.remove(s, key: key, keyOf)
    }

    /// Sets a route's target and labels, releasing the old target's bytes.
    mutating func setExtras(_ s: UInt32, target: RouteTarget?, labels newLabels: [String: String]) {
        if slots[Int(s)].targetLength > 0 { arena.release(Int(slots[Int(s)].targetLength)) }
        let (offset, length) = target.map { encodeTarget($0) } ?? (0, 0)
        slots[Int(s)].targetOffset = offset
        slots[Int(s)].targetLength = length
        if newLabels.isEmpty {
            if slots[Int(s)].flags & Slot.hasLabels != 0 {
                slots[Int(s)].flags &= ~Slot.hasLabels
                labels[s] = nil
            }
        } else {
            slots[Int(s)].flags |= Slot.hasLabels
            labels[s] = newLabels
        }
    }

    mutating func addTally(_ key: RouteKey, owner: UInt32) {
        for name in tallyNames(for: key) {
            let k = String(name)
            if below[k] == nil { below[k] = OwnerTally(owner: owner) } else { below[k]!.add(owner) }
        }
    }

    mutating func removeTally(_ key: RouteKey, owner: UInt32) {
        for name in tallyNames(for: key) {
            let k = String(name)
            if below[k]?.remove(owner) == false { below[k] = nil }
        }
    }

    func routeKey(_ s: UInt32) -> RouteKey {
        let key = keyBytes(s)
        switch slots[Int(s)].kind {
        case .host: return .host(String(decoding: key, as: UTF8.self))
        case .wildcard: return .wildcard(String(decoding: key.dropFirst(2), as: UTF8.self))
        case .tcp: return .tcp(UInt16(TableState.port(key)))
        }
    }

    /// Links a slot into tunnel `t`, copying the tunnel's owner and UUID into it.
    mutating func linkToTunnel(_ s: UInt32, _ t: UInt32, uuid: (UInt64, UInt64)?) {
        let head = tunnels[Int(t)].head
        slots[Int(s)].tunnel = t
        slots[Int(s)].owner = tunnels[Int(t)].owner
        if let (high, low) = uuid {
            slots[Int(s)].uuidHigh = high
            slots[Int(s)].uuidLow = low
            slots[Int(s)].flags |= Slot.uuidTunnel
        } else {
            slots[Int(s)].uuidHigh = 0
            slots[Int(s)].uuidLow = 0
            slots[Int(s)].flags &= ~Slot.uuidTunnel
        }
        slots[Int(s)].prev = Slot.none
        slots[Int(s)].next = head
        if head != Slot.none { slots[Int(head)].prev = s }
        tunnels[Int(t)].head = s
        tunnels[Int(t)].count += 1
    }

    /// Unlinks a slot from its tunnel; drops the tunnel when it was its last route.
    mutating func unlinkFromTunnel(_ s: UInt32) {
        let t = slots[Int(s)].tunnel
        if tunnels[Int(t)].count == 1 {
            // The last route: unindex the tunnel while its id can still be read from the slot.
            let hash = withTunnelIDBytes(t) { hasher($0) }
            tunnelIndex.remove(hash: hash, slot: t)
            arena.release(Int(tunnels[Int(t)].textLength))
            freeTunnels.append(t)
        }
        let prev = slots[Int(s)].prev
        let next = slots[Int(s)].next
        if prev != Slot.none { slots[Int(prev)].next = next } else { tunnels[Int(t)].head = next }
        if next != Slot.none { slots[Int(next)].prev = prev }
        tunnels[Int(t)].count -= 1
    }

    /// The tunnel record for `id`, created (owned by `owner`) when new, and its UUID bits.
    mutating func tunnelSlot(for id: TunnelID, owner: UInt32, new: Bool = false) -> (UInt32, (UInt64, UInt64)?) {
        let existing = new ? nil : findTunnel(id)
        var record = TunnelRecord(head: Slot.none, count: 0, owner: owner, textOffset: 0, textLength: 0)
        let uuid = id.uuid
        let hash = id.withUTF8 { bytes in
            if uuid == nil && existing == nil {
                record.textOffset = arena.append(bytes)
                record.textLength = UInt8(bytes.count)
            }
            return hasher(bytes)
        }
        if let existing { return (existing, uuid) }
        let t: UInt32
        if let free = freeTunnels.popLast() {
            t = free
            tunnels[Int(t)] = record
        } else {
            t = UInt32(tunnels.count)
            tunnels.append(record)
        }
        tunnelIndex.insert(hash: hash, slot: t)
        return (t, uuid)
    }

    mutating func bindSession(_ s: UInt32, to session: UInt64) {
        let old = slots[Int(s)].session
        guard old != session else { return }
        if old != 0 { sessions[old]?.slots.remove(s) }
        slots[Int(s)].session = session
        if session != 0 { sessions[session, default: SessionRecord()].slots.insert(s) }
    }

    mutating func scheduleExpiry(_ s: UInt32, at deadline: Int64, previous: Int64) {
        // One heap entry per deadline that moved earlier; a later deadline is re-queued
        // lazily when the earlier entry comes due (see `expireDue`).
        if deadline != Slot.never && (previous == Slot.never || deadline < previous) {
            deadlines.insert(Deadline(at: deadline, slot: s))
        }
    }

    /// Removes a live slot, records the event and returns the route as it was.
    @discardableResult
    mutating func remove(_ s: UInt32, as kind: RouteEvent.Kind) -> Route {
        let gone = route(s)
        let slot = slots[Int(s)]
        removeIndexes(s)
        removeTally(routeKey(s), owner: slot.owner)
        if slot.session != 0 { sessions[slot.session]?.slots.remove(s) }
        unlinkFromTunnel(s)
        setExtras(s, target: nil, labels: [:])
        if Int(slot.keyLength) > Slot.inlineKeyCapacity { arena.release(Int(slot.keyLength)) }
        slots[Int(s)] = Slot()
        freeSlots.append(s)
        publish(RouteEvent(kind: kind, revision: nextRevision(), key: gone.key, route: gone))
        if arena.shouldCompact { compactArena() }
        return gone
    }

    /// Moves live keys, targets and tunnel ids to a fresh arena, dropping removed ones' bytes.
    mutating func compactArena() {
        let slots = self.slots.base
        let slotCount = self.slots.count
        let tunnels = self.tunnels.base
        let tunnelCount = self.tunnels.count
        arena.compact { relocate in
            for i in 0..<slotCount where slots[i].live {
                if Int(slots[i].keyLength) > Slot.inlineKeyCapacity {
                    slots[i].key.0 = UInt64(relocate(UInt32(truncatingIfNeeded: slots[i].key.0), Int(slots[i].keyLength)))
                }
                if slots[i].targetLength > 0 {
                    slots[i].targetOffset = relocate(slots[i].targetOffset, Int(slots[i].targetLength))
                }
            }
            for t in 0..<tunnelCount where tunnels[t].count > 0 && tunnels[t].textLength > 0 {
                tunnels[t].textOffset = relocate(tunnels[t].textOffset, Int(tunnels[t].textLength))
            }
        }
    }

    /// Expires every route and session whose deadline has passed. Returns how many routes went.
    @discardableResult
    mutating func expireDue(now: Int64) -> Int {
        var removed = 0
        while let top = deadlines.min, top.at <= now {
            _ = deadlines.popMin()
            let s = top.slot
            guard slots[Int(s)].live else { continue }
            let expires = slots[Int(s)].expiresAt
            if expires <= now {
                remove(s, as: .expire)
                removed += 1
            } else if expires != Slot.never && top.at != expires {
                deadlines.insert(Deadline(at: expires, slot: s))
            }
        }
        if !endingSessions.isEmpty {
            for id in endingSessions {
                guard let record = sessions[id], let ends = record.endsAt, ends <= now else { continue }
                for s in record.slots.sorted() where slots[Int(s)].live {
                    remove(s, as: .expire)
                    removed += 1
                }
                sessions[id] = nil
                endingSessions.remove(id)
            }
        }
        return removed
    }

    var nextDeadline: Int64? {
        var next = deadlines.min?.at
        for id in endingSessions {
            if let ends = sessions[id]?.endsAt { next = min(next ?? ends, ends) }
        }
        return next
    }
}
