import DomainRouter
import RouterEngine
import RouterRedis
import Synchronization

/// The writer: changes queue in the `DraftWriter`, whose loop (in `run()`) commits them in
/// runs, each run one draft and one script call.
extension RedisStore {
    /// Queues steps that must go in one draft; `completion` gets their outcomes in order.
    /// (Redis keeps no history: who made a change is in the daemons' audit lines.)
    package func enqueue(_ steps: [DraftStep], principal: String = "", peer: String = "",
                         completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        writer.enqueue(steps, principal: principal, peer: peer, completion: completion)
    }

    /// Drafts a run, commits it, and completes it; drafts again on a newer table while other
    /// daemons' changes came first.
    func commit(_ run: [Pending]) async {
        // A store known to be away fails the change at once rather than after a reply timeout;
        // the follower and the lease find it again, and writes go on from then.
        if let problem = state.withLock({ $0.available ? nil : ($0.problem ?? "no contact") }) {
            return fail(run, .unavailable("the route store (\(location)) is unreachable (\(problem)); nothing was changed: " +
                                          "try again once `routerctl stats` shows it available"))
        }
        let steps = run.map(\.step)
        var attempts = 0
        while true {
            attempts += 1
            let draft = table.draft(steps)
            guard !draft.events.isEmpty else {
                return finish(run, draft.outcomes)
            }
            let storeID = state.withLock { $0.storeID }
            var arguments = [storeID, String(draft.base), String(logLength)]
            arguments.reserveCapacity(3 + 3 * draft.events.count)
            var records: [String] = []
            records.reserveCapacity(draft.events.count)
            for event in draft.events {
                let record = StoredRoute.encode(event.route!)
                arguments.append(event.kind.rawValue)
                arguments.append(event.key)
                arguments.append(record)
                records.append(record)
            }
            state.withLock { $0.ownCommit = OwnCommit(base: draft.base, events: draft.events, records: records) }
            defer { state.withLock { $0.ownCommit = nil } }
            let reply: RESPValue
            do {
                reply = try await client.evaluate(RedisScripts.commit,
                                                  keys: [keys.id, keys.revision, keys.routes, keys.log],
                                                  arguments: arguments)
            } catch {
                markUnavailable(error)
                return fail(run, .unavailable("the route store (\(location)) did not answer: \(error); if the change reached it before the connection failed it was made: look it up before trying again"))
            }
            let fields = reply.elements ?? []
            let outcome = fields.first?.integer
            let revision = fields.count > 1 ? UInt64(fields[1].integer ?? 0) : 0
            markContact(revision: outcome == -1 ? nil : revision)
            switch outcome {
            case 1:
                if case .gap = table.replicate(draft.events) {
                    // Cannot happen while this daemon's table was at the base; load to be sure.
                    _ = try? await catchUp()
                }
                return finish(run, draft.outcomes)
            case 0:
                guard attempts < 64 else {
                    return fail(run, .unavailable("the route store (\(location)) kept changing under this change (\(attempts) drafts); try again"))
                }
                do {
                    try await catchUp()
                } catch {
                    markUnavailable(error)
                    return fail(run, .unavailable("the route store (\(location)) did not answer: \(error); nothing was changed"))
                }
            default:
                fail(run, .unavailable("the route store (\(location)) was flushed or replaced; this daemon is loading it again: nothing was changed, try again"))
                do {
                    try await load(reason: .reset("the route store (\(location)) was flushed or replaced; its history is gone: list again, then watch"))
                } catch {
                    markUnavailable(error)
                }
                return
            }
        }
    }

    func finish(_ run: [Pending], _ outcomes: [DraftOutcome]) {
        for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
    }

    func fail(_ run: [Pending], _ error: RouteError) {
        for pending in run { pending.complete(pending.step.failure(error)) }
    }
}
