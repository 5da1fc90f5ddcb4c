#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Changing: owners, revisions and events, slots and their indexes, tunnels and sessions.
extension TableState {
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

    /// Appends to the history and hands the event to every subscriber. (Consuming: an event
    /// made for the call moves into the history rather than being copied there, every string
    /// of it retained, and then released.)
    mutating func publish(_ event: consuming RouteEvent) {
        if deferredEvents != nil {
            deferredEvents!.append(consume event)
            return
        }
        if history.count >= config.historyLimit { history.removeFirst() }
        if !subscribers.isEmpty {
            var gone: [UInt64] = []
            for (id, subscriber) in subscribers where !subscriber.deliver(event) {
                gone.append(id)
            }
            for id in gone { subscribers[id] = nil }
        }
        history.append(consume event)
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
        if drafting { return leaveSortedAlone(s, inList: false) }
        if sortedDeferred { return }
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
        if drafting { return leaveSortedAlone(s, inList: true) }
        if sortedDeferred { return }
        let keyOf = self.keyOf
        sorted.remove(s, key: key, keyOf)
    }

    /// A draft adds and removes routes only to take them out or put them back in its rollback,
    /// and the rollback undoes its changes newest first, so every slot it touched ends with the
    /// key it had before (slots are reused from a stack); the sorted list, which only `list`
    /// reads, is therefore right again at the end without being touched in between. Debug
    /// builds check that promise at the end of each draft.
    @inline(__always)
    mutating func leaveSortedAlone(_ s: UInt32, inList: Bool) {
        #if DEBUG
        if sortedLeftAlone[s] == nil {
            sortedLeftAlone[s] = .some(inList ? Array(keyBytes(s)) : nil)
        }
        #endif
    }

    /// The end of a draft's rollback: the sorted list is maintained again. Debug builds check
    /// that every slot the draft touched holds the key it held before, so the list left alone
    /// is still right.
    mutating func finishDrafting() {
        drafting = false
        #if DEBUG
        for (s, before) in sortedLeftAlone {
            let now: [UInt8]? = Int(s) < slots.count && slots[Int(s)].live ? Array(keyBytes(s)) : nil
            assert(now == before, "a draft's rollback left slot \(s) with another key than before: the sorted list is out of step")
        }
        sortedLeftAlone = [:]
        #endif
    }

    /// Sets a route's target, labels and access rules, releasing the old target's bytes.
    mutating func setTargetAndLabels(_ s: UInt32, target: RouteTarget?, labels newLabels: [String: String],
                                     access rules: AccessRules) {
        if rules.isEmpty {
            if slots[Int(s)].flags & Slot.hasAccess != 0 {
                slots[Int(s)].flags &= ~Slot.hasAccess
                access[s] = nil
            }
        } else {
            slots[Int(s)].flags |= Slot.hasAccess
            access[s] = rules
        }
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
            tunnelIndex.remove(hash: tunnelHash(ofRecord: t), slot: t)
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
        if let existing { return (existing, uuid) }
        let hash: UInt64
        if let (high, low) = uuid {
            hash = hasher(high, low)
        } else {
            hash = id.withUTF8 { bytes in
                record.textOffset = arena.append(bytes)
                record.textLength = UInt8(bytes.count)
                return hasher(bytes)
            }
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
        return (t, uuid)
    }

    mutating func bindSession(_ s: UInt32, to session: UInt64) {
        let old = slots[Int(s)].session
        guard old != session else { return }
        if namespaces != nil, (old == 0) != (session == 0) {
            countSessionRoute(s, by: session == 0 ? -1 : 1)
        }
        if old != 0 { sessions[old]?.slots.remove(s) }
        slots[Int(s)].session = session
        if session != 0 { sessions[session, default: SessionRecord()].slots.insert(s) }
    }


    /// Removes a live slot, records the event and returns the route as it was.
    @discardableResult
    mutating func remove(_ s: UInt32, as kind: RouteEvent.Kind) -> Route {
        let gone = route(s)
        if undo != nil { noteUndo(routeKey(s), before: gone) }
        detach(s)
        publish(RouteEvent(kind: kind, revision: nextRevision(), key: gone.key, route: gone))
        return gone
    }

    /// Takes a live slot out of every index, its tunnel and its session, and frees it, without
    /// a revision or an event. (It makes no `Route` of it: a rollback or a replica replacing
    /// a route has no use for one.)
    mutating func detach(_ s: UInt32) {
        let slot = slots[Int(s)]
        removeIndexes(s)
        removeTally(routeKey(s), owner: slot.owner)
        if slot.session != 0, namespaces != nil { countSessionRoute(s, by: -1) }
        if slot.session != 0, sessions[slot.session] != nil {
            sessions[slot.session]!.slots.remove(s)
            // A record exists for routes to bind to: forget it with its last route (unless
            // its grace is running, which the sweep ends).
            if sessions[slot.session]!.slots.isEmpty && sessions[slot.session]!.endsAt == nil {
                sessions[slot.session] = nil
            }
        }
        unlinkFromTunnel(s)
        setTargetAndLabels(s, target: nil, labels: [:], access: AccessRules())
        if Int(slot.keyLength) > Slot.inlineKeyCapacity { arena.release(Int(slot.keyLength)) }
        slots[Int(s)] = Slot()
        freeSlots.append(s)
        if arena.shouldCompact { compactArena() }
        if slot.expiresAt != Slot.never { dropStaleDeadlinesIfMany() }
    }

    /// While a draft runs (see `RouteTable.draft`): keeps `key`'s route as it is before a change
    /// touches it (nil: the key is free), so that the draft can be undone.
    mutating func noteUndo(_ key: RouteKey, before: Route?) {
        guard undo != nil else { return }
        undo!.append(UndoEntry(key: key, before: before))
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
}
