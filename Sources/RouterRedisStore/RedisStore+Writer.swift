import DomainRouter
import RouterEngine
import RouterRedis
import Synchronization

/// The writer: changes queue in the `DraftWriter`, whose loop (in `run()`) drafts them in runs
/// and commits each run with one script call; while one call is under way, the next runs (up to
/// `commitDepth` in all) are drafted on it and sent behind it (see `RedisScripts.commit` for what
/// keeps that safe). The calls are encoded, and the runs answered, on `sideLoop`.
extension RedisStore: DraftCommitter {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    /// (Redis keeps no history: who made a change is in the daemons' audit lines.)
    package func enqueue(_ steps: [DraftStep], principal: String = "", peer: String = "",
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        writer.enqueue(steps, principal: principal, peer: peer, completion: completion)
    }

    /// A run's script call under way: its token (which the next run's call names), and the
    /// call as sent (or why it could not be).
    package struct Commit: Sendable {
        var token: String
        var sent: Result<RedisPendingReply, RedisError>
    }

    package func draft(_ run: [Pending], after pending: PendingEvents) -> Draft? {
        // A store known to be away fails the change at once rather than after a reply timeout;
        // the follower and the lease find it again, and writes go on from then.
        if let problem = state.withLock({ $0.shared.health.available ? nil : ($0.shared.health.problem ?? "no contact") }) {
            let error = RouteError.unavailable("the route store (\(location)) is unreachable (\(problem)); nothing was changed: " +
                                               "try again once `routerctl stats` shows it available")
            answer(run, run.map { $0.step.failure(error) })
            return nil
        }
        return table.draft(run.map(\.step), after: pending, keep: true)
    }

    package func submit(_ draft: Draft, of run: [Pending], after pending: PendingEvents,
                        following previous: Commit?) async -> Commit {
        let (storeID, token) = state.withLock { s in
            s.commits += 1
            return (s.shared.storeID, "\(s.shared.node).\(s.commits)")
        }
        state.withLock { $0.ownCommits.append(OwnCommit(token: token, base: draft.base, events: draft.events, entries: [])) }
        let keys = keys, logLength = logLength, base = draft.base, events = draft.events, previous = previous?.token ?? ""
        do {
            let sent = try await client.submit(RedisScripts.commit, on: sideLoop) {
                let entries = RedisLogText.entries(of: events)
                self.state.withLock { s in
                    if let i = s.ownCommits.firstIndex(where: { $0.token == token }) { s.ownCommits[i].entries = entries }
                }
                return Self.commitArguments(keys: keys, storeID: storeID, base: base, logLength: logLength, token: token,
                                            previous: previous, events: events, entries: entries)
            }
            return Commit(token: token, sent: .success(sent))
        } catch {
            return Commit(token: token, sent: .failure(error))
        }
    }

    /// The commit script's keys and arguments (see `RedisScripts.commit`) for `events` drafted
    /// on revision `base` and logged as `entries`, written straight into the call's bytes. The
    /// routes hash gets each key's last state: every route set in event order when the commit
    /// removes none (of two sets of one key in one `HSET`, the later stays), else each key once.
    static func commitArguments(keys: RedisKeys, storeID: String, base: UInt64, logLength: Int, token: String,
                                previous: String, events: [RouteEvent], entries: [RedisLogText]) -> RedisScriptArguments {
        var sets: [Int] = [], removals: [Int] = []
        // (By index, here and below: an event copied out would retain and release its strings.)
        if events.indices.contains(where: { events[$0].kind == .delete || events[$0].kind == .expire }) {
            var last: [String: Int] = [:]
            for (i, event) in events.enumerated() { last[event.key] = i }
            for (i, event) in events.enumerated() where last[event.key] == i {
                if event.kind == .add || event.kind == .update { sets.append(i) } else { removals.append(i) }
            }
        } else {
            sets = Array(events.indices)
        }
        let text = entries.reduce(0) { $0 + $1.bytes.count }
        var arguments = RedisScriptArguments(keys: [keys.id, keys.revision, keys.routes, keys.log, keys.last],
                                             capacity: 2 * text + 80 * events.count + 256)
        arguments.append(storeID)
        arguments.append(Int(base))
        arguments.append(logLength)
        arguments.append(token)
        arguments.append(previous)
        arguments.append(sets.count)
        arguments.append(removals.count)
        arguments.append(entries.count)
        let perEntry = RedisLogText.entryChanges
        for i in sets {
            arguments.append(events[i].key)
            let entry = entries[i / perEntry]
            entry.bytes.withUnsafeBytes { arguments.append(bytes: UnsafeRawBufferPointer(rebasing: $0[entry.records[i % perEntry]])) }
        }
        for i in removals { arguments.append(events[i].key) }
        for entry in entries {
            arguments.append(entry.records.count)
            entry.bytes.withUnsafeBytes { arguments.append(bytes: $0) }
        }
        return arguments
    }

    /// Answers a run on the side loop, in order (the loop runs its tasks in order): the writer's
    /// thread goes on drafting meanwhile.
    package func answer(_ run: [Pending], _ outcomes: [DraftOutcome]) {
        sideLoop.execute {
            for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
        }
    }

    package func outcome(of commit: Commit) async -> CommitOutcome {
        defer {
            let follower = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.ownCommits.removeAll { $0.token == commit.token }
                guard s.ownCommits.isEmpty else { return nil }
                defer { s.followerWaiting = nil }
                return s.followerWaiting
            }
            follower?.resume()
        }
        let reply: RESPValue
        switch commit.sent {
        case .failure(let error):
            markUnavailable(error)
            return .failed(.unavailable("the route store (\(location)) could not be reached: \(error); nothing was changed"))
        case .success(let sent):
            do {
                reply = try await client.reply(to: sent, of: RedisScripts.commit)
            } catch {
                // Redis forgot the script (restarted, or flushed its scripts): nothing ran;
                // this call and those behind it are drafted again.
                if error.replyMessage?.hasPrefix("NOSCRIPT") == true { return .stale }
                // Not known to be in the store, nor known not to be: nothing to catch up with
                // now (the follower does once Redis answers again).
                markUnavailable(error)
                return .failed(.unavailable("the route store (\(location)) did not answer: \(error); if the change reached it before the connection failed it was made: look it up before trying again"))
            }
        }
        let fields = reply.elements ?? []
        let outcome = fields.first?.integer
        let revision = fields.count > 1 ? UInt64(fields[1].integer ?? 0) : 0
        switch outcome {
        case 1:
            markContact(revision: revision)
            return .committed
        case 0:
            markContact(revision: revision)
            state.withLock { $0.behind = true }
            return .stale
        default:
            markContact()
            state.withLock { $0.replaced = true }
            return .failed(.unavailable("the route store (\(location)) was flushed or replaced; this daemon is loading it again: nothing was changed, try again"))
        }
    }

    /// Catches up with the store's log after a commit that found it moved on, or loads it anew
    /// when it was flushed or replaced. (After a commit that got no answer there is nothing to
    /// do: the store is marked away, and the next drafts are refused at once until it is back.)
    package func recover() async {
        let (replaced, behind) = state.withLock { s in
            defer { (s.replaced, s.behind) = (false, false) }
            return (s.replaced, s.behind)
        }
        do {
            if replaced {
                try await load(reason: .reset("the route store (\(location)) was flushed or replaced; its history is gone: list again, then watch"))
            } else if behind {
                try await catchUp()
            }
        } catch {
            markUnavailable(error)
        }
    }
}
