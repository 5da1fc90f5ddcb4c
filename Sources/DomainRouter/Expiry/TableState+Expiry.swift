import HeapModule

/// Expiry: the deadline heap and the sweep that removes what is due.
extension TableState {
    mutating func scheduleExpiry(_ s: UInt32, at deadline: Int64, previous: Int64) {
        // One heap entry per deadline that moved earlier; a later deadline is re-queued
        // lazily when the earlier entry comes due (see `expireDue`).
        if deadline != Slot.never && (previous == Slot.never || deadline < previous) {
            deadlines.insert(Deadline(at: deadline, slot: s))
        }
    }

    /// A removed route's heap entry stays until its time comes (the heap cannot take out one
    /// entry cheaply), and so does the earlier entry of a deadline that moved later. Once such
    /// entries could outnumber the live routes (plus a margin), the heap is built anew from the
    /// live routes' deadlines: a churn of routes with a TTL keeps the heap within twice the
    /// table, at an amortized constant cost a removal.
    mutating func dropStaleDeadlinesIfMany() {
        let live = slots.count - freeSlots.count
        guard deadlines.count > 2 * live + 1024 else { return }
        var entries: [Deadline] = []
        entries.reserveCapacity(live)
        for i in 0..<slots.count where slots[i].live && slots[i].expiresAt != Slot.never {
            entries.append(Deadline(at: slots[i].expiresAt, slot: UInt32(i)))
        }
        deadlines = Heap(entries)
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

    /// The routes whose TTL ran out by `now` that no sweep has removed yet: gone for lookups
    /// already, still stored.
    func lapsed(now: Int64) -> [UInt32] {
        var seen = Set<UInt32>()
        for deadline in deadlines.unordered where deadline.at <= now {
            let s = deadline.slot
            if slots[Int(s)].live && !isProvisional(s) && slots[Int(s)].expiresAt <= now { seen.insert(s) }
        }
        return seen.sorted()
    }

    var nextDeadline: Int64? {
        var next = deadlines.min?.at
        for id in endingSessions {
            if let ends = sessions[id]?.endsAt { next = min(next ?? ends, ends) }
        }
        return next
    }
}
