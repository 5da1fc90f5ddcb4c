import DomainRouter
import RouterEngine
import RouterEtcd
import RouterProtocol

/// The writer: changes queue in the `DraftWriter`, whose loop (in `run()`) drafts them in runs
/// and commits each run with one transaction, one at a time (etcd's JSON gateway answers a
/// connection's requests one by one; a run grows while the one before it commits).
extension EtcdStore: DraftCommitter {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    /// (etcd keeps no history of who changed what: that is in the daemons' audit lines.)
    package func enqueue(_ steps: [DraftStep], principal: String = "", peer: String = "",
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        writer.enqueue(steps, principal: principal, peer: peer, completion: completion)
    }

    /// A run's commit, settled: how it went.
    package struct Commit: Sendable {
        var outcome: CommitOutcome
    }

    package func draft(_ run: [Pending], after pending: PendingEvents) -> Draft? {
        // A store out of reach for longer than a commit would wait fails the change at once;
        // the follower and the lease find it again, and writes go on from then.
        let problem = state.withLock { s -> String? in
            guard !s.shared.health.available, let since = s.shared.health.unavailableSince, ContinuousClock.now - since > Self.commitPatience else { return nil }
            return s.shared.health.problem ?? "no contact"
        }
        if let problem {
            let error = RouteError.unavailable("the route store (\(location)) is unreachable (\(problem)); nothing was changed: " +
                                               "try again once `routerctl stats` shows it available")
            answer(run, run.map { $0.step.failure(error) })
            return nil
        }
        return table.draft(run.map(\.step), after: pending, keep: true)
    }

    package func submit(_ draft: Draft, of run: [Pending], after pending: PendingEvents,
                        following previous: Commit?) async -> Commit {
        let (storeID, token, head) = state.withLock { s in
            s.commits += 1
            return (s.shared.storeID, "\(s.shared.node).\(s.commits)", s.tokens[draft.base])
        }
        let last = draft.base + UInt64(draft.events.count)
        let lines = EtcdCommitEntry.lines(draft.events[...])
        var operations: [EtcdJSON.Operation] = []
        var parts = 0
        if lines.utf8.count > Self.partBytes {
            // Too large for one request: the events go to part keys first, named by the entry.
            do {
                parts = try await writeParts(draft.events, last: last, token: token)
            } catch {
                return Commit(outcome: .failed(.unavailable("the route store (\(location)) could not take this change's \(draft.events.count) events: \(error); nothing was changed")))
            }
            operations.append(.put(EtcdJSON.put(keys.log(last), EtcdCommitEntry.header(token: token, base: draft.base, parts: parts))))
        } else {
            operations.append(.put(EtcdJSON.put(keys.log(last), EtcdCommitEntry.header(token: token, base: draft.base, parts: 0) + lines)))
        }
        operations.append(.put(EtcdJSON.put(keys.head, "\(last) \(token)")))
        var compare = [EtcdJSON.valueIs(keys.id, storeID)]
        if draft.base == 0 {
            compare.append(EtcdJSON.versionIs(keys.head, 0))
        } else {
            // The head the draft was made on; unknown (a revision this daemon loaded past) fails
            // the compare, and the change is drafted again once caught up.
            compare.append(EtcdJSON.valueIs(keys.head, "\(draft.base) \(head ?? "?")"))
        }
        // On failure, what decides why: this change's log key (its own earlier try may have
        // committed it), the head and the id — the same reads as a commit read back.
        let request = EtcdJSON.txn(compare: compare, success: operations,
                                   failure: [.range(EtcdJSON.range(keys.log(last))), .range(EtcdJSON.range(keys.head)),
                                             .range(EtcdJSON.range(keys.id))])
        let outcome = await commit(request, token: token, last: last, expectedHead: "\(draft.base) \(head ?? "?")")
        if case .committed = outcome {
            state.withLock { s in
                s.tokens[last] = token
                if s.tokens.count > 256, let oldest = s.tokens.keys.min() { s.tokens[oldest] = nil }
            }
        } else if case .stale = outcome, parts > 0 {
            // Known not committed, and never to be (the head moved on): its parts go now. (After
            // a failure whose outcome is unknown they stay; the checkpoint's trim takes them.)
            _ = try? await client.call("kv/deleterange", EtcdJSON.delete(keys.parts + "\(keys.log(last).suffix(20))/\(token)/",
                                                                            end: keys.end(keys.parts + "\(keys.log(last).suffix(20))/\(token)/")))
        }
        return Commit(outcome: outcome)
    }

    /// Writes a large change's events in part keys (`parts/LAST/TOKEN/N`), each under the
    /// request size; returns how many.
    func writeParts(_ events: [RouteEvent], last: UInt64, token: String) async throws(EtcdError) -> Int {
        let base = keys.parts + "\(keys.log(last).suffix(20))/\(token)/"
        var start = 0
        var part = 0
        while start < events.count {
            var text = ""
            var end = start
            while end < events.count {
                let line = EtcdCommitEntry.lines(events[end...end])
                if !text.isEmpty && text.utf8.count + line.utf8.count > Self.partBytes { break }
                text += line
                end += 1
            }
            _ = try await client.call("kv/put", EtcdJSON.put(base + String(part), text))
            part += 1
            start = end
        }
        return part
    }

    /// Sends a commit and settles it: an answer lost with a member, or refused for want of a
    /// leader, is read back from the log (committed, or not and sent again on the same head)
    /// until `commitPatience` has passed.
    func commit(_ request: JSONValue, token: String, last: UInt64, expectedHead: String) async -> CommitOutcome {
        let deadline = ContinuousClock.now + Self.commitPatience
        var sent = false
        var lastError: EtcdError?
        while ContinuousClock.now < deadline {
            do {
                if sent {
                    // Did the commit whose answer was lost go through? Its log key holds its token.
                    let check = try await client.txn(EtcdJSON.txn(compare: [], success: [
                        .range(EtcdJSON.range(keys.log(last))), .range(EtcdJSON.range(keys.head)), .range(EtcdJSON.range(keys.id)),
                    ]), timeout: Self.commitTry, failover: true)
                    if Self.holds(check, token) {
                        markContact(revision: last)
                        return .committed
                    }
                    if check.ranges.count > 1, check.ranges[1].kvs.first?.value != expectedHead && !(expectedHead.hasPrefix("0 ") && check.ranges[1].kvs.isEmpty) {
                        return judge(failure: check)
                    }
                }
                sent = true
                let result = try await client.txn(request, timeout: Self.commitTry)
                guard result.succeeded else {
                    // A try sent again fails its compare when the one before it committed.
                    if Self.holds(result, token) {
                        markContact(revision: last)
                        return .committed
                    }
                    return judge(failure: result)
                }
                markContact(revision: last)
                return .committed
            } catch {
                lastError = error
                switch error.code {
                case .unreachable, .noLeader, .notEtcd:
                    // Another member next (the client moved on), after a pause that lets an
                    // election finish.
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                default:
                    return .failed(.unavailable("the route store (\(location)) refused the change: \(error); nothing was changed"))
                }
            }
        }
        let error = lastError.map { "\($0)" } ?? "no answer"
        markUnavailable(lastError ?? EtcdError(.unreachable, error))
        return .failed(.unavailable("the route store (\(location)) could not commit within \(Self.commitPatience) (\(error)); if it reached etcd it was made: look it up before trying again"))
    }

    /// Whether a read of `[log key, head, id]` finds the log key holding the change `token`.
    static func holds(_ read: EtcdTxnResult, _ token: String) -> Bool {
        read.ranges.first?.kvs.first?.value.hasPrefix(token + " ") == true
    }

    /// A commit whose compare failed (reads: `[log key, head, id]`): the store was replaced
    /// (another id), or moved on.
    func judge(failure result: EtcdTxnResult) -> CommitOutcome {
        let id = result.ranges.last?.kvs.first?.value
        let known = state.withLock { $0.shared.storeID }
        if id != known {
            markContact()
            state.withLock { $0.replaced = true }
            return .failed(.unavailable("the route store (\(location)) was deleted or replaced; this daemon is loading it again: nothing was changed, try again"))
        }
        let head = result.ranges.count > 1 ? result.ranges[result.ranges.count - 2].kvs.first?.value : nil
        markContact(revision: head.flatMap { $0.split(separator: " ").first.flatMap { UInt64($0) } })
        state.withLock { $0.behind = true }
        return .stale
    }

    package func outcome(of commit: Commit) async -> CommitOutcome { commit.outcome }

    /// Catches up with the store's log after a commit that found it moved on, or loads it anew
    /// when it was deleted or replaced.
    package func recover() async {
        let (replaced, behind) = state.withLock { s in
            defer { (s.replaced, s.behind) = (false, false) }
            return (s.replaced, s.behind)
        }
        do {
            if replaced {
                try await load(reason: .reset("the route store (\(location)) was deleted or replaced; its history is gone: list again, then watch"))
            } else if behind {
                try await catchUp()
            }
        } catch {
            markUnavailable(error)
        }
    }
}
