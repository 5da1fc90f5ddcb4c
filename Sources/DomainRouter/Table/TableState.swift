#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import HeapModule

/// Target and labels, kept out of line: most routes have neither, and a slot stays small.
final class RouteExtras: Sendable {
    let target: RouteTarget?
    let labels: [String: String]

    init?(target: RouteTarget?, labels: [String: String]) {
        if target == nil && labels.isEmpty { return nil }
        self.target = target
        self.labels = labels
    }
}

/// One route's storage (88 bytes). Slots are recycled through a free list; `live` tells a
/// used one. The key's bytes live in the table's arena.
struct Slot {
    static let none: UInt32 = .max
    static let never: Int64 = .max

    var keyOffset: UInt32
    var tunnel: UInt32
    var prev: UInt32
    var next: UInt32
    var keyLength: UInt8
    var kind: RouteKind
    var live: Bool
    var session: UInt64
    var extras: RouteExtras?
    var createdAt: Int64
    var updatedAt: Int64
    var expiresAt: Int64
    var ttl: Int64
    var createRevision: UInt64
    var modRevision: UInt64
}

/// A tunnel: its id, its owner and the head of the doubly linked list of its routes' slots.
/// A canonical UUID id is kept as its 128 bits; any other id as bytes in the arena, with
/// `high` holding the offset and `textLength` the length.
struct TunnelRecord {
    var high: UInt64
    var low: UInt64
    var owner: UInt32
    var head: UInt32
    var count: UInt32
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
/// that a lookup always borrows it in place (a copy would retain every stored property).
struct TableState: ~Copyable {
    let config: RouteTableConfiguration

    let arena = ByteArena(capacity: 1 << 16)
    let hasher = ByteHash()
    var random = RandomPool()
    var slots: [Slot] = []
    var freeSlots: [UInt32] = []
    var hosts = HashIndex()
    var wildcards = HashIndex()
    var tcp: [UInt32] = []
    var sorted = SortedKeyList()
    var tunnels: [TunnelRecord] = []
    var freeTunnels: [UInt32] = []
    var tunnelIndex = HashIndex()
    var owners: [String] = []
    var ownerIDs: [String: UInt32] = [:]
    var below: [String: OwnerTally] = [:]
    var sessions: [UInt64: SessionRecord] = [:]
    var endingSessions: Set<UInt64> = []
    var deadlines = Heap<Deadline>()
    var revision: UInt64 = 0
    var history = Deque<RouteEvent>()
    var subscribers: [UInt64: Subscriber] = [:]
    var nextSubscriber: UInt64 = 1
    var hostCount = 0
    var wildcardCount = 0
    var tcpCount = 0

    init(config: RouteTableConfiguration) {
        self.config = config
    }

    // MARK: Finding

    @inline(__always)
    func keyBytes(_ s: UInt32) -> UnsafeBufferPointer<UInt8> {
        let slot = slots[Int(s)]
        return arena.bytes(at: slot.keyOffset, length: Int(slot.keyLength))
    }

    func keyString(_ s: UInt32) -> String {
        String(decoding: keyBytes(s), as: UTF8.self)
    }

    @inline(__always)
    func keyEquals(_ s: UInt32, offset: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let slot = slots[Int(s)]
        guard Int(slot.keyLength) == bytes.count + offset else { return false }
        return memcmp(arena.base + Int(slot.keyOffset) + offset, bytes.baseAddress!, bytes.count) == 0
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
        if record.textLength == 0 { return TunnelID.withUUIDBytes(record.high, record.low, body) }
        return body(arena.bytes(at: UInt32(record.high), length: Int(record.textLength)))
    }

    func tunnelID(_ t: UInt32) -> TunnelID {
        let record = tunnels[Int(t)]
        if record.textLength == 0 { return TunnelID(unchecked: TunnelID.uuidString(record.high, record.low)) }
        return TunnelID(unchecked: arena.string(at: UInt32(record.high), length: Int(record.textLength)))
    }

    func findTunnel(_ id: TunnelID) -> UInt32? {
        HostNames.withBytes(id.rawValue) { bytes in
            let uuid = TunnelID.uuidBits(bytes)
            return tunnelIndex.find(hash: hasher(bytes)) { t in
                let record = tunnels[Int(t)]
                if let uuid { return record.textLength == 0 && record.high == uuid.0 && record.low == uuid.1 }
                return Int(record.textLength) == bytes.count
                    && memcmp(arena.base + Int(record.high), bytes.baseAddress!, bytes.count) == 0
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
    func isExpired(_ s: UInt32, clock: any RouteClock) -> Bool {
        let expires = slots[Int(s)].expiresAt
        return expires != Slot.never && expires <= clock.now().millisecondsSinceEpoch
    }

    func ownerName(of s: UInt32) -> String {
        owners[Int(tunnels[Int(slots[Int(s)].tunnel)].owner)]
    }

    func ownerID(of s: UInt32) -> UInt32 {
        tunnels[Int(slots[Int(s)].tunnel)].owner
    }

    /// The route in slot `s`; `key` saves rebuilding the key when the caller has it.
    func route(_ s: UInt32, key: String? = nil) -> Route {
        let slot = slots[Int(s)]
        let tunnel = tunnels[Int(slot.tunnel)]
        return Route(
            key: key ?? keyString(s),
            kind: slot.kind,
            tunnel: tunnelID(slot.tunnel),
            target: slot.extras?.target,
            labels: slot.extras?.labels ?? [:],
            owner: owners[Int(tunnel.owner)],
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
                    clock: any RouteClock) -> LookupResult? {
        if let s = findHost(bytes, hash: hash), !isExpired(s, clock: clock) {
            let route = route(s, key: name)
            return LookupResult(route: route, match: .exact, via: route.key)
        }
        guard wildcardCount > 0 else { return nil }
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: ".") {
            let suffix = UnsafeBufferPointer(rebasing: bytes[(i + 1)...])
            if let s = findWildcard(parent: suffix, hash: hasher(suffix)), !isExpired(s, clock: clock) {
                let route = route(s)
                return LookupResult(route: route, match: .wildcard, via: route.key)
            }
        }
        return nil
    }

    func tunnelInfo(_ id: TunnelID, now: Int64) -> TunnelInfo? {
        guard let t = findTunnel(id) else { return nil }
        var routes: [Route] = []
        var latest: Int64 = 0
        var s = tunnels[Int(t)].head
        while s != Slot.none {
            if !isExpired(s, now: now) {
                routes.append(route(s))
                latest = max(latest, slots[Int(s)].expiresAt)
            }
            s = slots[Int(s)].next
        }
        guard !routes.isEmpty else { return nil }
        routes.sort { $0.key < $1.key }
        return TunnelInfo(
            id: tunnelID(t), owner: owners[Int(tunnels[Int(t)].owner)],
            expiresAt: latest == Slot.never ? nil : Timestamp(millisecondsSinceEpoch: latest),
            routes: routes)
    }

    // MARK: Names, zones and ownership

    /// The base domain `name` is at or below, if any (longest first).
    func baseDomain(of name: String) -> String? {
        for base in config.baseDomains where name == base || name.hasSuffix("." + base) {
            return base
        }
        return nil
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
        let floor = floorLabels(of: name)
        var labels = TableState.labelCount(Substring(name))
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
            owner: owner, tunnel: tunnelID(slot.tunnel),
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
        if let id = ownerIDs[name] { return id }
        let id = UInt32(owners.count)
        owners.append(name)
        ownerIDs[name] = id
        return id
    }

    mutating func nextRevision() -> UInt64 {
        revision += 1
        return revision
    }

    /// Appends to the history and hands the event to every subscriber.
    mutating func publish(_ event: RouteEvent) {
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
        let slots = self.slots
        let arena = self.arena
        sorted.insert(s, key: key) { arena.bytes(at: slots[Int($0)].keyOffset, length: Int(slots[Int($0)].keyLength)) }
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
        let slots = self.slots
        let arena = self.arena
        sorted.remove(s, key: key) { arena.bytes(at: slots[Int($0)].keyOffset, length: Int(slots[Int($0)].keyLength)) }
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

    mutating func linkToTunnel(_ s: UInt32, _ t: UInt32) {
        let head = tunnels[Int(t)].head
        slots[Int(s)].tunnel = t
        slots[Int(s)].prev = Slot.none
        slots[Int(s)].next = head
        if head != Slot.none { slots[Int(head)].prev = s }
        tunnels[Int(t)].head = s
        tunnels[Int(t)].count += 1
    }

    /// Unlinks a slot from its tunnel; drops the tunnel when it was its last route.
    mutating func unlinkFromTunnel(_ s: UInt32) {
        let t = slots[Int(s)].tunnel
        let prev = slots[Int(s)].prev
        let next = slots[Int(s)].next
        if prev != Slot.none { slots[Int(prev)].next = next } else { tunnels[Int(t)].head = next }
        if next != Slot.none { slots[Int(next)].prev = prev }
        tunnels[Int(t)].count -= 1
        if tunnels[Int(t)].count == 0 {
            let hash = withTunnelIDBytes(t) { hasher($0) }
            tunnelIndex.remove(hash: hash, slot: t)
            arena.release(Int(tunnels[Int(t)].textLength))
            freeTunnels.append(t)
        }
    }

    mutating func tunnelSlot(for id: TunnelID, owner: UInt32) -> UInt32 {
        if let t = findTunnel(id) { return t }
        var record = TunnelRecord(high: 0, low: 0, owner: owner, head: Slot.none, count: 0, textLength: 0)
        let hash = HostNames.withBytes(id.rawValue) { bytes in
            if let (hi, lo) = TunnelID.uuidBits(bytes) {
                record.high = hi
                record.low = lo
            } else {
                record.high = UInt64(arena.append(bytes))
                record.textLength = UInt8(bytes.count)
            }
            return hasher(bytes)
        }
        let t: UInt32
        if let free = freeTunnels.popLast() {
            t = free
            tunnels[Int(t)] = record
        } else {
            t = UInt32(tunnels.count)
            tunnels.append(record)
        }
        tunnelIndex.insert(hash: hash, slot: t)
        return t
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
        removeTally(routeKey(s), owner: tunnels[Int(slot.tunnel)].owner)
        if slot.session != 0 { sessions[slot.session]?.slots.remove(s) }
        unlinkFromTunnel(s)
        arena.release(Int(slot.keyLength))
        slots[Int(s)].live = false
        slots[Int(s)].extras = nil
        slots[Int(s)].session = 0
        slots[Int(s)].expiresAt = Slot.never
        freeSlots.append(s)
        publish(RouteEvent(kind: kind, revision: nextRevision(), key: gone.key, route: gone))
        if arena.shouldCompact { compactArena() }
        return gone
    }

    /// Moves live keys and tunnel ids to a fresh arena, dropping the bytes of removed ones.
    mutating func compactArena() {
        var slots = self.slots
        var tunnels = self.tunnels
        self.slots = []
        self.tunnels = []
        let freeTunnels = Set(self.freeTunnels)
        arena.compact { relocate in
            for i in slots.indices where slots[i].live {
                slots[i].keyOffset = relocate(slots[i].keyOffset, Int(slots[i].keyLength))
            }
            for t in tunnels.indices where tunnels[t].textLength > 0 && !freeTunnels.contains(UInt32(t)) {
                tunnels[t].high = UInt64(relocate(UInt32(tunnels[t].high), Int(tunnels[t].textLength)))
            }
        }
        self.slots = slots
        self.tunnels = tunnels
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
