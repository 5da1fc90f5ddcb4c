import DequeModule
import DomainRouter
import Logging
import NIOCore
import NIOPosix
import RouterEngine
import RouterRedis
import ServiceLifecycle
import Synchronization

/// The shared store: one table in Redis, served by every routerd started on the same Redis and
/// prefix. Redis decides every change; each routerd keeps the whole table in memory as a
/// replica, which every lookup, list and watch reads.
///
/// - **Writes** are drafted against the replica (`RouteTable.draft`, the table's own rules) and
///   committed by a script that applies the draft's events only if Redis is still at the
///   draft's base revision; otherwise the replica catches up and the change is drafted again.
///   A write's completion runs once Redis committed it and the replica applied it.
/// - **The replica** loads the routes hash at start and follows the log stream (`XREAD`),
///   whose entries are numbered by revision; a gap is filled from the log, and a replica that
///   fell behind its trimmed tail, or a store that was flushed or went back in time, is
///   loaded anew, ending every watch with `compacted` (`store_reset`).
/// - **Expiry** is drafted by every daemon's sweeper and committed once: the others' drafts
///   become stale and find nothing left to expire.
/// - **Sessions** are numbered by node (a number each daemon takes from Redis at start), and
///   each daemon renews a lease; the routes of a daemon whose lease lapsed are expired by the
///   others after the grace.
/// - **Redis away**: reads go on from the replica; writes fail at once with `unavailable`.
package final class RedisStore: SharedDraftingStore, Service, Sendable {
    package let table: RouteTable
    let keys: RedisKeys
    let redis: RedisConfiguration
    /// Commits, loads and leases.
    let client: RedisClient
    /// The blocking stream reads, on a connection of their own.
    let follower: RedisClient
    package let logger: Logger
    /// At least how many changes the log keeps (`XTRIM MINID ~`): how far a watch can resume.
    let logLength: Int
    /// How long a session's routes outlive their closed connection (or their lapsed daemon).
    let grace: Duration
    let state = Mutex(State())
    /// Loads, one at a time (`load(reason:)`).
    let loading = SingleFlight()
    /// The one writer: changes queue here, and `run()` commits them in runs.
    let writer = DraftWriter(limit: RedisStore.commitLimit)
    /// Resume tickets to write and claim, in order (`serveSessions`).
    let sessions = AsyncStream.makeStream(of: SessionRequest.self)
    /// Where the writer's commits are encoded and their changes answered: a loop other than
    /// the one `client`'s connection (and so the writer, which its replies resume) runs on,
    /// so that both overlap the writer's drafting. (The same loop, given a group of one.)
    let sideLoop: any EventLoop

    /// How long a lease lasts unrenewed, and how often it is renewed.
    static let leaseLength: Duration = .seconds(5)
    static let leaseRenewal: Duration = .seconds(1)
    /// How long a command waits for Redis before the change fails with `unavailable`.
    static let replyTimeout: Duration = .seconds(1)
    /// How long the follower's blocking read (1 s) may take in all.
    static let followTimeout: Duration = .seconds(3)
    /// How many changes at most go into one commit, and how many commits may be under way at
    /// once (one in Redis, the next sent behind it, the others drafted on them). Small runs, many
    /// under way: drafting, encoding, Redis and answering then work on different runs at the
    /// same time, where a run of thousands keeps each of them waiting for the one before.
    static let commitLimit = 128
    static let commitDepth = 8

    struct State {
        /// The id, node, health, expiry slot and digests every shared store keeps.
        var shared = SharedStoreState()
        /// Every daemon's lease expiry (ms since the epoch), as last read.
        var leases: [UInt64: Int64] = [:]
        /// Daemons whose sessions this one holds routes of but whose lease it has not read:
        /// when each was first found missing (ms since the epoch). A daemon that joined since
        /// the last renewal has a lease this one has not seen yet; it counts as alive until it
        /// stays unseen for a whole lease and the grace.
        var missingSince: [UInt64: Int64] = [:]
        /// The changes this daemon is committing, oldest first, for the follower to recognise
        /// in the log.
        var ownCommits: [OwnCommit] = []
        /// The follower, waiting for this daemon's commits under way to settle before it
        /// reads the log again (`ownCommitsSettled()`).
        var followerWaiting: CheckedContinuation<Void, Never>?
        /// Script calls made: the last part of each one's token.
        var commits: UInt64 = 0
        /// A commit found the store flushed or replaced: the writer's recovery loads it anew.
        var replaced = false
        /// A commit found the store ahead of its draft: the writer's recovery catches up.
        var behind = false
    }

    /// A change being committed: its token, its events from the revision after `base`, and
    /// their log entries as sent.
    struct OwnCommit: Sendable {
        var token: String
        var base: UInt64
        var events: [RouteEvent]
        var entries: [RedisLogText]
    }

    /// A change waiting for the writer, and what to do with its outcome.
    package typealias Pending = DraftWriter.Pending

    /// A store for `table` on the Redis `redis` under `prefix`. Nothing is read until `open()`.
    /// `logLength` (default: the table's history) is about how many changes the log keeps.
    package init(table: RouteTable, redis: RedisConfiguration, prefix: String, grace: Duration, logLength: Int? = nil,
                 group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.table = table
        self.redis = redis
        keys = RedisKeys(prefix: prefix)
        let loops = Array(group.makeIterator())
        sideLoop = loops.count > 1 ? loops[1] : loops[0]
        client = RedisClient(configuration: redis, group: loops[0], replyTimeout: Self.replyTimeout)
        follower = RedisClient(configuration: redis, group: group, replyTimeout: Self.followTimeout)
        self.logger = logger
        self.grace = grace
        self.logLength = min(logLength ?? table.configuration.historyLimit, table.configuration.historyLimit)
    }

    package var kind: String { "redis" }

    package func withShared<T>(_ body: (inout SharedStoreState) -> T) -> T {
        state.withLock { body(&$0.shared) }
    }

    /// Where the store is, for messages.
    package var location: String { "Redis at \(redis.description), prefix \(keys.prefix)" }

    /// Connects, takes a node number and a lease, and loads the table. Throws when Redis
    /// cannot be reached or holds something else under the prefix.
    package func open() async throws {
        let node = try await client.command(["INCR", keys.nodes]).integer ?? 0
        state.withLock { $0.shared.node = UInt64(node) }
        try await renewLease()
        try await load(reason: .reset("the table was loaded from its store"))
        _ = state.withLock { $0.shared.health.contact() }
        logger.notice("store opened", metadata: [
            "store": "\(location)", "store_id": "\(status.id ?? "")", "node": "\(node)", "revision": "\(table.revision)",
        ])
    }

    /// Runs the writer and the resume tickets, follows the store's log and renews the lease
    /// until graceful shutdown; then commits what was queued, answers the tickets asked for,
    /// and gives the lease up.
    package func run() async throws {
        await withTaskGroup(of: Void.self) { writing in
            writing.addTask { await self.writer.run(self, depth: Self.commitDepth) }
            writing.addTask { await self.serveSessions() }
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.follow() }
                    group.addTask { await self.keepLease() }
                }
            }
            writer.finish()
            sessions.continuation.finish()
            await writing.waitForAll()
        }
        await stop()
    }

    /// Gives up the lease (so that other daemons expire this one's session routes after the
    /// grace) and closes the connections.
    package func stop() async {
        state.withLock { $0.shared.stopping = true }
        let node = state.withLock { $0.shared.node }
        let now = table.clock.now().millisecondsSinceEpoch
        _ = try? await client.evaluate(RedisScripts.lease, keys: [keys.leases], arguments: [String(node), String(now), String(now)])
        await client.close()
        await follower.close()
    }

    // MARK: RouteStore

    package var sharesSessions: Bool { true }

    package func offerSession(token: String, session: UInt64, uid: UInt32, grace: Duration) {
        guard table.holdsRoutes(session: session) else { return }
        let ms = max(1, grace.milliseconds)
        sessions.continuation.yield(.offer(key: keys.ticket(token), value: "\(session) \(uid)", milliseconds: ms))
    }

    package func claimSession(token: String, uid: UInt32,
                              completion: @escaping @Sendable (Result<UInt64?, RouteError>) -> Void) {
        let request = SessionRequest.claim(key: keys.ticket(token), uid: uid, completion: completion)
        if case .terminated = sessions.continuation.yield(request) {
            completion(.failure(.unavailable("routerd is stopping; the session was not resumed")))
        }
    }

    /// A resume ticket to write, or one to claim: done in order by `serveSessions`, in `run()`.
    enum SessionRequest: Sendable {
        case offer(key: String, value: String, milliseconds: Int64)
        case claim(key: String, uid: UInt32, completion: @Sendable (Result<UInt64?, RouteError>) -> Void)
    }

    /// Writes and claims resume tickets until `run()` finishes the stream at shutdown, then
    /// the ones already asked for.
    func serveSessions() async {
        for await request in sessions.stream {
            switch request {
            case .offer(let key, let value, let ms):
                _ = try? await client.command(["SET", key, value, "PX", String(ms)])
            case .claim(let key, let uid, let completion):
                do {
                    let reply = try await client.evaluate(RedisScripts.claim, keys: [key], arguments: [String(uid)])
                    if reply.integer == -1 {
                        completion(.failure(.forbidden("that session belongs to another user")))
                    } else {
                        completion(.success(reply.string.flatMap { UInt64($0) }))
                    }
                } catch {
                    completion(.failure(.unavailable("the route store (\(location)) did not answer: \(error); the session was not resumed")))
                }
            }
        }
    }

    // MARK: Leases

    func keepLease() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.leaseRenewal)
            do {
                try await renewLease()
                markContact()
            } catch {
                markUnavailable(error)
            }
        }
    }

    func renewLease() async throws {
        let node = state.withLock { $0.shared.node }
        let now = table.clock.now().millisecondsSinceEpoch
        let reply = try await client.evaluate(RedisScripts.lease, keys: [keys.leases],
                                              arguments: [String(node), String(now + Self.leaseLength.milliseconds), String(now)])
        var leases: [UInt64: Int64] = [:]
        let flat = reply.elements ?? []
        for i in stride(from: 0, to: flat.count - 1, by: 2) {
            if let n = flat[i].integer, let t = flat[i + 1].integer { leases[UInt64(n)] = t }
        }
        state.withLock { $0.leases = leases }
        try await publishDigest(node: node, now: now, leases: leases)
    }

    /// Writes this daemon's namespaces digest and compares the live daemons' (those whose lease
    /// has not lapsed): daemons on one store must enforce the same namespaces.
    func publishDigest(node: UInt64, now: Int64, leases: [UInt64: Int64]) async throws {
        guard let digest = state.withLock({ $0.shared.configDigest }) else { return }
        let replies = try await client.pipeline([["HSET", keys.digests, String(node), digest], ["HGETALL", keys.digests]])
        let flat = replies.count > 1 ? replies[1].elements ?? [] : []
        var live: [UInt64: String] = [:]
        for i in stride(from: 0, to: flat.count - 1, by: 2) {
            guard let text = flat[i].string, let other = UInt64(text), let theirs = flat[i + 1].string,
                  let lease = leases[other], lease >= now else { continue }
            live[other] = theirs
        }
        compareDigests(live: live)
    }

    /// Sessions of other daemons whose lease lapsed more than the grace ago, or whose lease
    /// has stayed unseen for a lease's length and the grace since it was first missed.
    package func lapsedSessions(now: Int64) -> Set<UInt64> {
        let sessions = table.sessionIDs
        return state.withLock { s in
            guard !s.leases.isEmpty else { return [] }
            var lapsed: Set<UInt64> = []
            var missing: [UInt64: Int64] = [:]
            for session in sessions {
                let owner = session >> SharedStoreState.nodeShift
                guard owner != s.shared.node else { continue }
                let end: Int64
                if let lease = s.leases[owner] {
                    end = lease
                } else {
                    let since = s.missingSince[owner] ?? now
                    missing[owner] = since
                    end = since + Self.leaseLength.milliseconds
                }
                if end + grace.milliseconds <= now { lapsed.insert(session) }
            }
            s.missingSince = missing
            return lapsed
        }
    }
}
