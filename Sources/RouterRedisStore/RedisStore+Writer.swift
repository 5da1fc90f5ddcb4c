import DomainRouter
import RouterEngine
import RouterRedis
import Synchronization

/// The writer: changes queue in the `DraftWriter`, whose loop (in `run()`) drafts them in runs
/// and commits each run with one script call; while one call is under way, the next run is
/// drafted on it and sent behind it (see `RedisScripts.commit` for what keeps that safe).
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

    package func draft(_ run: [Pending], after pending: [RouteEvent]) -> Draft? {
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

    package func submit(_ draft: Draft, of run: [Pending], after pending: [RouteEvent],
                        following previous: Commit?) async -> Commit {
        let (storeID, token) = state.withLock { s in
            s.commits += 1
            return (s.shared.storeID, "\(s.shared.node).\(s.commits)")
        }
        var arguments = [storeID, String(draft.base), String(logLength), token, previous?.token ?? ""]
        arguments.reserveCapacity(5 + 3 * draft.events.count)
        var records: [String] = []
        records.reserveCapacity(draft.events.count)
        for event in draft.events {
            let record = StoredRoute.encode(event.route!)
            arguments.append(event.kind.rawValue)
            arguments.append(event.key)
            arguments.append(record)
            records.append(record)
        }
        state.withLock { $0.ownCommits.append(OwnCommit(token: token, base: draft.base, events: draft.events, records: records)) }
        do {
            let sent = try await client.submit(RedisScripts.commit, keys: [keys.id, keys.revision, keys.routes, keys.log, keys.last],
                                               arguments: arguments)
            return Commit(token: token, sent: .success(sent))
        } catch {
            return Commit(token: token, sent: .failure(error))
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
