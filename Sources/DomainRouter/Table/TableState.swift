#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import HeapModule

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
    /// Access rules of the slots flagged `hasAccess` (most routes have none).
    var access: [UInt32: AccessRules] = [:]
    var owners: [String] = []
    var ownerIDs: [String: UInt32] = [:]
    var recentOwner: (name: String, id: UInt32)?
    /// For each name, the owners of the routes below it (see TableState+Ownership).
    var ownersBelow: [String: OwnerTally] = [:]
    /// For each base domain (in `config.baseDomains`' order), how many routes lie strictly
    /// below it: the one count `ownersBelow` does not keep (its tallies stop above the floor).
    var routesBelowBase: [Int]
    var sessions: [UInt64: SessionRecord] = [:]
    var endingSessions: Set<UInt64> = []
    var deadlines = Heap<Deadline>()
    var revision: UInt64 = 0
    var history = Deque<RouteEvent>()
    /// Events held back while an atomic batch runs; published only when it commits.
    var deferredEvents: [RouteEvent]?
    /// While a draft runs: each change's key and its route before the change, oldest first.
    var undo: [UndoEntry]?
    /// From a draft's first change to the end of its rollback. The sorted key list is left as
    /// it is meanwhile (see `insertIndexes`): only `list` reads it, and no draft lists.
    var drafting = false
    /// Drafted adds kept in place while their store commits them; hidden from every read.
    var provisional = ProvisionalChanges()
    /// While a table loaded whole is built (`RouteTable.load`): slots are left out of the
    /// sorted list, which `finishLoad` then builds in one pass.
    var sortedDeferred = false
    #if DEBUG
    /// While drafting, in debug builds: the key each slot whose sorted entry was left alone had
    /// in the list when first left alone (nil: the slot was not in it); checked at the end of
    /// the draft (`finishDrafting`).
    var sortedLeftAlone: [UInt32: [UInt8]?] = [:]
    #endif
    var subscribers: [UInt64: Subscriber] = [:]
    var nextSubscriber: UInt64 = 1
    /// The namespaces in force (nil: none), and what each holds, in their order.
    var namespaces: NamespacePolicy?
    /// Counts the times namespaces were put in force: a load built aside with an older policy
    /// counts anew under the one in force when it takes the table's place.
    var namespacesGeneration = 0
    var namespaceUse: [NamespaceUse] = []
    var hostCount = 0
    var wildcardCount = 0
    var tcpCount = 0

    init(config: RouteTableConfiguration) {
        self.config = config
        routesBelowBase = Array(repeating: 0, count: config.baseDomains.count)
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

    /// The tunnel index's hash of tunnel record `t`: of its UUID bits (a canonical UUID, kept in
    /// the head slot), or of its text.
    func tunnelHash(ofRecord t: UInt32) -> UInt64 {
        let record = tunnels[Int(t)]
        if record.textLength == 0 {
            let head = slots[Int(record.head)]
            return hasher(head.uuidHigh, head.uuidLow)
        }
        return hasher(arena.bytes(at: record.textOffset, length: Int(record.textLength)))
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
        if let (high, low) = id.uuid {
            return tunnelIndex.find(hash: hasher(high, low)) { t in
                let record = tunnels[Int(t)]
                guard record.textLength == 0, record.head != Slot.none else { return false }
                let head = slots[Int(record.head)]
                return head.uuidHigh == high && head.uuidLow == low
            }
        }
        return id.withUTF8 { bytes in
            tunnelIndex.find(hash: hasher(bytes)) { t in
                let record = tunnels[Int(t)]
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

    /// Whether slot `s` holds a drafted add not yet committed (see `ProvisionalChanges`):
    /// reads pass over it, drafts build on it.
    @inline(__always)
    func isProvisional(_ s: UInt32) -> Bool {
        slots[Int(s)].flags & Slot.provisional != 0
    }

    /// The slot holding `key` as readers see it: committed, live, possibly expired.
    func findCommitted(_ key: RouteKey) -> UInt32? {
        guard let s = findSlot(key), !isProvisional(s) else { return nil }
        return s
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
            access: slot.flags & Slot.hasAccess == 0 ? AccessRules() : access[s] ?? AccessRules(),
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
}
