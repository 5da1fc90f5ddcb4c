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

/// One route's storage. Slots are recycled through a free list; `live` tells a used one.
struct Slot {
    static let none: UInt32 = .max
    static let never: Int64 = .max

    var key: String
    var tunnel: UInt32
    var prev: UInt32
    var next: UInt32
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

/// A tunnel: its owner and the head of the doubly linked list of its routes' slots.
struct TunnelRecord {
    var id: TunnelID
    var owner: UInt32
    var head: UInt32
    var count: UInt32
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

/// Everything the table holds; mutated only under the table's write lock.
struct TableState {
    let config: RouteTableConfiguration

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
    static func keyEquals(_ key: String, offset: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let utf8 = key.utf8
        guard utf8.count == bytes.count + offset else { return false }
        return utf8.withContiguousStorageIfAvailable { p in
            memcmp(p.baseAddress! + offset, bytes.baseAddress!, bytes.count) == 0
        } ?? utf8.dropFirst(offset).elementsEqual(bytes)
    }

    @inline(__always)
    func findHost(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        hosts.find(hash: hash) { TableState.keyEquals(slots[Int($0)].key, offset: 0, bytes) }
    }

    @inline(__always)
    func findWildcard(parent bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        wildcards.find(hash: hash) { TableState.keyEquals(slots[Int($0)].key, offset: 2, bytes) }
    }

    func findTunnel(_ id: TunnelID) -> UInt32? {
        HostNames.withBytes(id.rawValue) { bytes in
            tunnelIndex.find(hash: ByteHash.hash(bytes)) { TableState.keyEquals(tunnels[Int($0)].id.rawValue, offset: 0, bytes) }
        }
    }

    /// The slot holding `key` (live, possibly expired but not yet swept).
    func findSlot(_ key: RouteKey) -> UInt32? {
        switch key {
        case .host(let name):
            return HostNames.withBytes(name) { findHost($0, hash: ByteHash.hash($0)) }
        case .wildcard(let parent):
            return HostNames.withBytes(parent) { findWildcard(parent: $0, hash: ByteHash.hash($0)) }
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

    func route(_ s: UInt32) -> Route {
        let slot = slots[Int(s)]
        let tunnel = tunnels[Int(slot.tunnel)]
        return Route(
            key: slot.key,
            kind: slot.kind,
            tunnel: tunnel.id,
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

    /// Exact match first, then the most specific wildcard (the longest suffix).
    func lookupHost(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, clock: any RouteClock) -> LookupResult? {
        if let s = findHost(bytes, hash: hash), !isExpired(s, clock: clock) {
            return LookupResult(route: route(s), match: .exact, via: slots[Int(s)].key)
        }
        guard wildcardCount > 0 else { return nil }
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: ".") {
            let suffix = UnsafeBufferPointer(rebasing: bytes[(i + 1)...])
            if let s = findWildcard(parent: suffix, hash: ByteHash.hash(suffix)), !isExpired(s, clock: clock) {
                return LookupResult(route: route(s), match: .wildcard, via: slots[Int(s)].key)
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
        let record = tunnels[Int(t)]
        return TunnelInfo(
            id: record.id, owner: owners[Int(record.owner)],
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
            owner: owner, tunnel: tunnels[Int(slot.tunnel)].id,
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
            return Conflict(key: key.description, relation: relation, heldKey: slots[Int(s)].key,
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

    mutating func insertIndexes(_ s: UInt32) {
        let key = slots[Int(s)].key
        switch slots[Int(s)].kind {
        case .host:
            hosts.insert(hash: ByteHash.hash(key), slot: s)
            hostCount += 1
        case .wildcard:
            wildcards.insert(hash: HostNames.withBytes(key) { ByteHash.hash(UnsafeBufferPointer(rebasing: $0[2...])) }, slot: s)
            wildcardCount += 1
        case .tcp:
            if tcp.isEmpty { tcp = Array(repeating: 0, count: 65536) }
            tcp[Int(UInt16(key.dropFirst(4))!)] = s + 1
            tcpCount += 1
        }
        let slots = self.slots
        sorted.insert(s, key: key) { slots[Int($0)].key }
    }

    mutating func removeIndexes(_ s: UInt32) {
        let key = slots[Int(s)].key
        switch slots[Int(s)].kind {
        case .host:
            hosts.remove(hash: ByteHash.hash(key), slot: s)
            hostCount -= 1
        case .wildcard:
            wildcards.remove(hash: HostNames.withBytes(key) { ByteHash.hash(UnsafeBufferPointer(rebasing: $0[2...])) }, slot: s)
            wildcardCount -= 1
        case .tcp:
            tcp[Int(UInt16(key.dropFirst(4))!)] = 0
            tcpCount -= 1
        }
        let slots = self.slots
        sorted.remove(s, key: key) { slots[Int($0)].key }
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

    static func routeKey(of slot: Slot) -> RouteKey {
        switch slot.kind {
        case .host: return .host(slot.key)
        case .wildcard: return .wildcard(String(slot.key.dropFirst(2)))
        case .tcp: return .tcp(UInt16(slot.key.dropFirst(4))!)
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
            let id = tunnels[Int(t)].id
            tunnelIndex.remove(hash: ByteHash.hash(id.rawValue), slot: t)
            freeTunnels.append(t)
        }
    }

    mutating func tunnelSlot(for id: TunnelID, owner: UInt32) -> UInt32 {
        if let t = findTunnel(id) { return t }
        let record = TunnelRecord(id: id, owner: owner, head: Slot.none, count: 0)
        let t: UInt32
        if let free = freeTunnels.popLast() {
            t = free
            tunnels[Int(t)] = record
        } else {
            t = UInt32(tunnels.count)
            tunnels.append(record)
        }
        tunnelIndex.insert(hash: ByteHash.hash(id.rawValue), slot: t)
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
        removeTally(TableState.routeKey(of: slot), owner: tunnels[Int(slot.tunnel)].owner)
        if slot.session != 0 { sessions[slot.session]?.slots.remove(s) }
        unlinkFromTunnel(s)
        slots[Int(s)].live = false
        slots[Int(s)].key = ""
        slots[Int(s)].extras = nil
        slots[Int(s)].session = 0
        slots[Int(s)].expiresAt = Slot.never
        freeSlots.append(s)
        publish(RouteEvent(kind: kind, revision: nextRevision(), key: gone.key, route: gone))
        return gone
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
