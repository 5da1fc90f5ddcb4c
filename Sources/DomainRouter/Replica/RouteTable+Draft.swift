extension RouteTable {
    /// Works out what `steps` would do to the table as it stands, in order (each step sees
    /// the ones before it), and puts the table back: nothing is visible to a lookup or a
    /// watcher, no revision is spent. A store that decides changes elsewhere (Redis) sends
    /// the draft's events there, to be committed only if the table there is still at the
    /// draft's base revision, and then applies them here with `replicate(_:)`. The rules of
    /// every change thus live in one place: the operations of this table.
    ///
    /// `pending` are events of earlier drafts still being committed (revisions from the
    /// table's next, in order; those the table already has are skipped): the draft is worked
    /// out on the table as it will be once they are, its base their last revision. It is
    /// good only if they do commit; a store must not commit it otherwise.
    ///
    /// With `keep`, a draft of nothing but adds of free keys, made on the table as it stands
    /// (every pending event kept in it already), is not taken out again: its routes stay in
    /// the table, hidden from every read, until its events are given to `replicate(_:)` (the
    /// commit: they become visible and are published) or the store says it did not commit
    /// (`abandonDrafts()`: they go). The next draft then builds on them without replaying
    /// them, and the commit applies nothing again (see `ProvisionalChanges`). A writer that
    /// keeps drafts must call one or the other for each, in order.
    package func draft(_ steps: [DraftStep], keep: Bool = false) -> Draft {
        draft(steps, after: EmptyCollection<RouteEvent>(), keep: keep)
    }

    /// `draft(_:keep:)` after `pending` (any collection of the events, such as the runs still
    /// under way joined without copying them).
    package func draft<Pending: BidirectionalCollection<RouteEvent>>(_ steps: [DraftStep], after pending: Pending,
                                                                   keep: Bool = false) -> Draft {
        let now = self.now
        return state.write { s in
            let committed = s.revision
            // Drafts kept before this one are in the table already: build on them.
            if let top = s.provisional.top { s.revision = top }
            // Sessions in their grace, whose ending a draft's expiry forgets; put back after.
            let ending = s.endingSessions.map { ($0, s.sessions[$0]?.endsAt) }
            s.undo = []
            s.drafting = true
            // A gap (the table moved on under the pending events) leaves them unapplied: the
            // draft is then stale, and its store refuses it.
            // Whether any pending event is not in the table yet (replayed, or past a gap): a
            // draft on such events is rolled back, never kept.
            var replayed = false
            // (Every pending event kept in the table already, as a writer that keeps its drafts
            // has them: nothing to look at.)
            if let last = pending.last, last.revision > s.revision {
                for event in pending where event.revision > s.revision {
                    replayed = true
                    guard event.revision == s.revision &+ 1 else { break }
                    s.replayForDraft(event)
                }
            }
            let base = s.revision
            s.deferredEvents = []
            var outcomes: [DraftOutcome] = []
            outcomes.reserveCapacity(steps.count)
            var stepEnds: [Int] = []
            stepEnds.reserveCapacity(steps.count)
            // By index, here and below: each step and event is read where it is, not copied
            // out with all its strings.
            for i in steps.indices {
                outcomes.append(s.draft(steps[i], table: self, now: now))
                stepEnds.append(s.deferredEvents?.count ?? 0)
            }
            let events = s.deferredEvents ?? []
            s.deferredEvents = nil
            if keep, !replayed, !events.isEmpty, events.indices.allSatisfy({ events[$0].kind == .add }),
               let undo = s.undo, undo.indices.allSatisfy({ undo[$0].before == nil }) {
                s.keepProvisional(events)
            } else {
                s.rollback(to: 0)
            }
            s.undo = nil
            s.finishDrafting()
            s.revision = committed
            for (id, ends) in ending {
                s.sessions[id, default: SessionRecord()].endsAt = ends
                s.endingSessions.insert(id)
            }
            return Draft(base: base, outcomes: outcomes, events: events, stepEnds: stepEnds)
        }
    }

    /// Marks a session's connection closed without changing the table: its routes go after
    /// `grace`, through the next draft of `.expireDue` (for a replica, whose expiries are
    /// decided by its store). A session without routes is forgotten.
    package func noteSessionEnded(_ session: UInt64, grace: Duration) {
        let ends = now &+ max(0, grace.milliseconds)
        state.write { s in
            guard let record = s.sessions[session] else { return }
            if record.slots.isEmpty {
                s.sessions[session] = nil
            } else {
                s.sessions[session]!.endsAt = ends
                s.endingSessions.insert(session)
            }
        }
    }

    /// Takes out every draft kept in the table (`draft(_:after:keep:)`) and not committed yet:
    /// its store did not commit it, and every draft made on it is void too.
    package func abandonDrafts() {
        state.write { $0.abandonProvisional() }
    }

    /// The next time a route or an ended session is due to go, if any.
    package var nextDeadline: Int64? { state.read { $0.nextDeadline } }
}

extension RouteTable {
    /// Hands a closed session's routes to another session of this daemon without changing
    /// the table (no revision, no event, nothing expired on the way); returns how many moved.
    package func moveSession(_ old: UInt64, to new: UInt64) -> Int {
        state.write { s in
            guard old != new, let record = s.sessions.removeValue(forKey: old) else { return 0 }
            s.endingSessions.remove(old)
            for slot in record.slots { s.slots[Int(slot)].session = new }
            s.sessions[new, default: SessionRecord()].slots.formUnion(record.slots)
            return record.slots.count
        }
    }

    /// Whether any route is bound to `session`.
    package func holdsRoutes(session: UInt64) -> Bool {
        state.read { !($0.sessions[session]?.slots.isEmpty ?? true) }
    }

    /// The sessions that hold routes: a store's bookkeeping of whose routes are whose.
    package var sessionIDs: [UInt64] { state.read { Array($0.sessions.keys) } }
}
