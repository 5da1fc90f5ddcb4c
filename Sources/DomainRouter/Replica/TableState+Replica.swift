/// Replication and drafts: applying changes decided elsewhere, and working out changes
/// without keeping them.
extension TableState {
    // MARK: Replicating

    /// Applies one change made elsewhere, exactly as its event says (the route after an add or
    /// update, the key gone after a delete or expire), at the event's revision, and publishes
    /// the event. State-based, so a route already there is replaced and a key already gone
    /// stays gone.
    mutating func replicate(_ event: RouteEvent) {
        if let route = event.route, let key = routeKey(of: route) {
            if let s = findSlot(key) { detach(s) }
            if event.kind == .add || event.kind == .update { restore(route) }
        }
        revision = event.revision
        publish(event)
    }

    /// Applies an event as `replicate(_:)` does, inside a draft: noted in the undo log, so the
    /// draft's rollback takes it out again, and published to nobody.
    mutating func replayForDraft(_ event: RouteEvent) {
        if let after = event.route, let key = routeKey(of: after) {
            let s = findSlot(key)
            noteUndo(key, before: s.map { route($0) })
            if let s { detach(s) }
            if event.kind == .add || event.kind == .update { restore(after) }
        }
        revision = event.revision
    }

    /// An empty state with this one's configuration and namespaces, to build a load in
    /// aside (`RouteTable.load`) while this one goes on answering; its sorted list is built
    /// once at the end (`finishLoad`).
    static func emptyForLoad(like settings: LoadSettings) -> TableState {
        var fresh = TableState(config: settings.config)
        if settings.namespaces != nil { fresh.setNamespaces(settings.namespaces) }
        fresh.namespacesGeneration = settings.namespacesGeneration
        fresh.sortedDeferred = true
        return fresh
    }

    /// What a load built aside takes from the state it replaces.
    struct LoadSettings {
        var config: RouteTableConfiguration
        var namespaces: NamespacePolicy?
        var namespacesGeneration: Int
    }

    var loadSettings: LoadSettings {
        LoadSettings(config: config, namespaces: namespaces, namespacesGeneration: namespacesGeneration)
    }

    /// Stores `route` in a load being built, in place of a route already given for its key.
    mutating func restoreReplacing(_ route: Route) {
        if let key = routeKey(of: route), let s = findSlot(key) { detach(s) }
        restore(route)
    }

    /// The end of a load built aside: the sorted list made in one pass, and the table at
    /// `revision`, with `events` to replay.
    mutating func finishLoad(revision: UInt64, history events: [RouteEvent]) {
        if sortedDeferred {
            sortedDeferred = false
            var live: [UInt32] = []
            live.reserveCapacity(slots.count - freeSlots.count)
            for s in 0..<UInt32(slots.count) where slots[Int(s)].live { live.append(s) }
            sorted = SortedKeyList(sorting: live, keyOf)
        }
        self.revision = revision
        for event in events.suffix(config.historyLimit) where event.revision <= revision {
            history.append(event)
        }
    }

    /// Takes `loaded`'s place (a load built aside, finished): every subscriber of this state is
    /// ended first with `reason`, the revisions it saw meaning nothing now, and subscriber
    /// numbers go on from where they were. `loaded` is left with this state's old contents,
    /// for the caller to free outside the lock.
    mutating func takePlace(of loaded: inout TableState, reason: RouteError) {
        for (_, subscriber) in subscribers {
            switch subscriber.sink {
            case .stream(let continuation, _):
                continuation.finish(throwing: reason)
            case .callback(let deliver):
                _ = deliver(RouteEvent(kind: .reset, revision: loaded.revision, key: "", route: nil))
            }
        }
        subscribers = [:]
        loaded.nextSubscriber = nextSubscriber
        // Namespaces put in force while the load was built: counted now, under their policy.
        if loaded.namespacesGeneration != namespacesGeneration {
            loaded.setNamespaces(namespaces)
            loaded.namespacesGeneration = namespacesGeneration
        }
        swap(&self, &loaded)
    }

    // MARK: Drafting

    /// Puts back every key changed since the undo log held `mark` entries, newest change first.
    /// (A kept draft's route a later draft changed goes back kept: hidden, as it was.)
    mutating func rollback(to mark: Int) {
        guard let log = undo, log.count > mark else { return }
        undo = nil // restoring is not a change to note
        for entry in log[mark...].reversed() {
            if let s = findSlot(entry.key) { detach(s) }
            if let before = entry.before, let s = restore(before), provisional.holds(before) {
                slots[Int(s)].flags |= Slot.provisional
            }
        }
        undo = Array(log[..<mark])
    }

    // MARK: Kept drafts

    /// The end of a draft kept in place (`RouteTable.draft(_:after:keep:)`): its adds, in the
    /// table now, are marked hidden, and their events wait for the commit. (Their slots were
    /// never put in the sorted list: the draft left it alone; the commit puts them there.)
    mutating func keepProvisional(_ events: [RouteEvent]) {
        var kept: [UInt32] = []
        kept.reserveCapacity(events.count)
        for i in events.indices {
            // Every event of a kept draft adds a route: its slot is there.
            let s = events[i].route.flatMap { routeKey(of: $0) }.flatMap { findSlot($0) } ?? Slot.none
            if s != Slot.none { slots[Int(s)].flags |= Slot.provisional }
            kept.append(s)
            #if DEBUG
            sortedLeftAlone[s] = nil
            #endif
        }
        provisional.keep(events, slots: kept)
    }

    /// The slot of a kept route: where it was kept, checked (its key, its flag).
    func provisionalSlot(_ s: UInt32, key: String) -> UInt32? {
        guard Int(s) < slots.count, slots[Int(s)].live, isProvisional(s) else { return nil }
        var key = key
        return key.withUTF8 { keyEquals(s, offset: 0, $0) } ? s : nil
    }

    /// Commits the oldest kept add if `events[index]` is its event (the same revision, key and route):
    /// it becomes visible, enters the sorted list, and is published. False otherwise.
    mutating func commitProvisional(_ index: Int, of events: UnsafeBufferPointer<RouteEvent>) -> Bool {
        guard let kept = provisional.slotOfFirst(ifItIs: index, of: events),
              let s = provisionalSlot(kept, key: events[index].key) else {
            return false
        }
        provisional.removeFirst()
        slots[Int(s)].flags &= ~Slot.provisional
        let keyOf = self.keyOf
        sorted.insert(s, key: keyBytes(s), keyOf)
        revision = events[index].revision
        publish(events[index])
        return true
    }

    /// Takes every kept add out of the table, newest first: their store did not commit them
    /// (or another change took their revisions). They were never visible, so nothing is
    /// published.
    mutating func abandonProvisional() {
        guard !provisional.isEmpty else { return }
        drafting = true // they are not in the sorted list
        for (event, kept) in provisional.all.reversed() {
            guard let s = provisionalSlot(kept, key: event.key) else { continue }
            detach(s)
            #if DEBUG
            sortedLeftAlone[s] = nil
            #endif
        }
        drafting = false
        provisional.removeAll()
    }

    /// One step of a draft, run as the same operation would run for real.
    mutating func draft(_ step: DraftStep, table: RouteTable, now: Int64) -> DraftOutcome {
        switch step {
        case .add(let requests, let principal):
            return .added(add(each: requests, principal: principal, now: now, table: table))
        case .delete(let key, let principal):
            return .deleted(Result { () throws(RouteError) in try delete(key, principal: principal, now: now) })
        case .touch(let key, let ttl, let principal):
            return .touched(Result { () throws(RouteError) in
                if let ttl { try AddRequest.validate(ttl: ttl) }
                return try touch(key, ttl: ttl, principal: principal, now: now)
            })
        case .update(let key, let change, let principal):
            return .updated(Result { () throws(RouteError) in
                try change.validate()
                return try update(key, change, principal: principal, now: now)
            })
        case .batch(let operations, let principal):
            return .batch(Result { () throws(BatchFailure) in
                try draftBatch(try table.validated(operations), principal: principal, now: now)
            })
        case .expireDue:
            return .expired(expireDue(now: now))
        case .expireSessions(let ids):
            var removed = 0
            for id in ids.sorted() {
                guard let record = sessions[id] else { continue }
                for s in record.slots.sorted() where slots[Int(s)].live {
                    remove(s, as: .expire)
                    removed += 1
                }
            }
            return .expired(removed)
        case .moveSession(let old, let new):
            guard old != new, let record = sessions[old] else { return .moved(0) }
            var moved = 0
            for s in record.slots.sorted() where slots[Int(s)].live {
                noteUndo(routeKey(s), before: route(s))
                let revision = nextRevision()
                bindSession(s, to: new)
                slots[Int(s)].modRevision = revision
                let route = route(s)
                publish(RouteEvent(kind: .update, revision: revision, key: route.key, route: route))
                moved += 1
            }
            return .moved(moved)
        }
    }

    /// An atomic batch inside a draft: on a failure, its own changes are undone and the
    /// draft's earlier steps stand.
    mutating func draftBatch(_ operations: [BatchOperation], principal: Principal,
                             now: Int64) throws(BatchFailure) -> [BatchOutcome] {
        expireDue(now: now)
        let mark = (undo: undo?.count ?? 0, revision: revision, events: deferredEvents?.count ?? 0)
        var outcomes: [BatchOutcome] = []
        for (index, operation) in operations.enumerated() {
            do throws(RouteError) {
                switch operation {
                case .add(let request):
                    outcomes.append(.added(try add(request, principal: principal, now: now)))
                case .delete(let key):
                    outcomes.append(.deleted(try delete(key, principal: principal, now: now)))
                case .touch(let key, let ttl):
                    outcomes.append(.touched(try touch(key, ttl: ttl, principal: principal, now: now)))
                }
            } catch {
                rollback(to: mark.undo)
                revision = mark.revision
                if let count = deferredEvents?.count { deferredEvents!.removeLast(count - mark.events) }
                throw BatchFailure(index: index, error: error)
            }
        }
        return outcomes
    }
}
