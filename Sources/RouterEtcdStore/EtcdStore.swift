import DomainRouter
import Logging
import NIOCore
import RouterEngine
import RouterEtcd
import RouterProtocol
import ServiceLifecycle
import Synchronization

/// The shared store on an etcd cluster: one table under a key prefix, served by every routerd
/// started on the same cluster and prefix. etcd decides every change; each routerd keeps the
/// whole table in memory as a replica, which every lookup, list and watch reads. It keeps the
/// Redis store's guarantees through etcd's own primitives, and survives the loss of any member
/// a Raft cluster survives.
///
/// - **Writes** are drafted against the replica (`RouteTable.draft`) and committed by one
///   transaction that compares the head key (`REVISION TOKEN` of the last change) with the
///   draft's base, and puts the change's log entry and the new head. Exactly one of two
///   changes drafted on the same revision commits; the other is drafted again. The commit
///   stays a handful of operations whatever the change's size (etcd's `--max-txn-ops`); a
///   change larger than one request (`--max-request-bytes`) writes its events to part keys
///   first, which its log entry names.
/// - **The routes keys** (`routes/KEY`) are brought up to the log by a checkpoint, off the
///   write path, in transactions of at most 100 keys that compare `applied`; it trims the log
///   behind both the checkpoint and the history the watches may replay.
/// - **The replica** loads the routes keys and the log after `applied` at one etcd revision,
///   then follows the log with a watch from the next (with progress notifications), catching
///   up by a range read after a gap; a replica whose log was trimmed past it, or a store that
///   was deleted or replaced, is loaded anew, ending every watch with `compacted`.
/// - **Sessions** are numbered by node (a counter each daemon increments at start), and each
///   daemon holds an etcd lease with a key `members/N` bound to it: when a daemon dies, etcd
///   drops its key when the lease runs out, and the others expire its session routes after the
///   grace — once, as one committed change.
/// - **A member lost**: the client moves to another member by itself; a commit whose answer
///   was lost is settled by reading the log (committed, or sent again on the same base) and
///   stalls only while the cluster elects a leader. **Quorum lost**: writes fail `unavailable`
///   after a short wait, reads go on from the replica, and the daemon catches up when it returns.
package final class EtcdStore: SharedDraftingStore, Service, Sendable {
    package let table: RouteTable
    let keys: EtcdKeys
    let client: EtcdClient
    package let logger: Logger
    /// About how many changes the log keeps behind the checkpoint: how far a watch can resume.
    let logLength: Int
    /// How long a session's routes outlive their closed connection (or their lapsed daemon).
    let grace: Duration
    let state = Mutex(State())
    /// Loads, one at a time (`load(reason:)`).
    let loading = SingleFlight()
    /// The one writer: changes queue here, and `run()` commits them in runs.
    let writer = DraftWriter(limit: EtcdStore.commitLimit)
    /// Resume tickets to write and claim, in order (`serveSessions`).
    let sessions = AsyncStream.makeStream(of: SessionRequest.self)

    /// The daemon's lease TTL (etcd drops its member key this long after it stopped renewing).
    static let leaseSeconds = 5
    /// How often the lease is renewed and the store's head and members read.
    static let renewal: Duration = .seconds(1)
    /// How long a commit may wait for a leader (an election) before it fails `unavailable`.
    static let commitPatience: Duration = .seconds(3)
    /// How long one try of a commit (or of reading one back) waits for its answer before it
    /// is read back from the log: a proposal a member forwarded to a leader that died is never
    /// answered, and the election that follows takes about a second. A commit takes a few
    /// milliseconds (tens for a thousand routes), so a try that times out is read back early.
    static let commitTry: Duration = .milliseconds(250)
    /// How many changes at most go into one commit.
    static let commitLimit = 1024
    /// The largest log value written in the commit itself; larger changes go to part keys.
    static let partBytes = 1_000_000
    /// How many route keys one checkpoint transaction writes (etcd allows 128 operations).
    static let checkpointKeys = 100

    struct State {
        /// The id, node, health, expiry slot and digests every shared store keeps.
        var shared = SharedStoreState()
        /// This daemon's etcd lease, which its member key is bound to.
        var lease: Int64 = 0
        /// The live daemons (those with a member key) and the digest each enforces.
        var members: [UInt64: String] = [:]
        /// Daemons whose sessions this one holds routes of but whose member key is gone: when
        /// each was first found missing (ms since the epoch).
        var missingSince: [UInt64: Int64] = [:]
        /// When the members were last read (ms since the epoch).
        var membersReadAt: Int64 = 0
        /// The token of the change that reached each recent revision (the head to compare).
        var tokens: [UInt64: String] = [:]
        /// Commits made: the last part of each one's token.
        var commits: UInt64 = 0
        /// A commit found the store deleted or replaced: the writer's recovery loads it anew.
        var replaced = false
        /// A commit found the store ahead of its draft: the writer's recovery catches up.
        var behind = false
        /// The etcd revision the log watch goes on from.
        var watchFrom: Int64 = 0
        /// Checks in a row that found the store ahead of the replica (a stuck watch).
        var lagging = 0
        /// The lease loop found the watch stuck: the follower starts it again.
        var restartWatch = false
    }

    /// A change waiting for the writer, and what to do with its outcome.
    package typealias Pending = DraftWriter.Pending

    /// A store for `table` on the etcd cluster `etcd` under `prefix`. Nothing is read until
    /// `open()`. `logLength` (default: the table's history) is about how many changes the log
    /// keeps.
    package init(table: RouteTable, etcd: EtcdConfiguration, prefix: String, grace: Duration, logLength: Int? = nil,
                 group: any EventLoopGroup, logger: Logger) throws(EtcdError) {
        self.table = table
        keys = EtcdKeys(prefix: prefix)
        client = try EtcdClient(configuration: etcd, group: group)
        self.logger = logger
        self.grace = grace
        self.logLength = min(logLength ?? table.configuration.historyLimit, table.configuration.historyLimit)
    }

    package var kind: String { "etcd" }

    package func withShared<T>(_ body: (inout SharedStoreState) -> T) -> T {
        state.withLock { body(&$0.shared) }
    }

    /// Where the store is, for messages.
    package var location: String { "etcd at \(client.configuration.description), prefix \(keys.prefix)" }

    /// Connects, takes a node number and a lease, and loads the table. Throws when no member
    /// can be reached or the prefix holds something else.
    package func open() async throws {
        let node = try await takeNode()
        let lease = try await client.grantLease(ttl: Self.leaseSeconds)
        state.withLock {
            $0.shared.node = node
            $0.lease = lease
        }
        try await putMember()
        try await load(reason: .reset("the table was loaded from its store"))
        _ = state.withLock { $0.shared.health.contact() }
        logger.notice("store opened", metadata: [
            "store": "\(location)", "store_id": "\(status.id ?? "")", "node": "\(node)", "revision": "\(table.revision)",
        ])
    }

    /// Runs the writer, follows the store's log, renews the lease and checkpoints until
    /// graceful shutdown; then commits what was queued and gives the lease up.
    package func run() async throws {
        await withTaskGroup(of: Void.self) { writing in
            writing.addTask { await self.writer.run(self, depth: 1) }
            writing.addTask { await self.serveSessions() }
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.follow() }
                    group.addTask { await self.keepLease() }
                    group.addTask { await self.keepCheckpoint() }
                }
            }
            writer.finish()
            sessions.continuation.finish()
            await writing.waitForAll()
        }
        await stop()
    }

    /// Revokes the lease (its member key goes at once, so that the others expire this
    /// daemon's session routes after the grace) and closes the connections.
    package func stop() async {
        let lease = state.withLock { s in
            s.shared.stopping = true
            return s.lease
        }
        if lease != 0 { try? await client.revoke(lease) }
        await client.shutdown()
    }

    /// The next node number: the counter `nodes`, incremented by compare-and-swap.
    func takeNode() async throws -> UInt64 {
        while true {
            let range = try await client.range(EtcdJSON.range(keys.nodes))
            let current = range.kvs.first
            let n = current.flatMap { UInt64($0.value) } ?? 0
            if current != nil, UInt64(current!.value) == nil {
                throw StoreFormatError("\(keys.nodes) in \(location) is not a number: it is not what routerd writes there")
            }
            let compare = current.map { EtcdJSON.modifiedAt(keys.nodes, $0.modRevision) } ?? EtcdJSON.versionIs(keys.nodes, 0)
            let result = try await client.txn(EtcdJSON.txn(compare: [compare], success: [.put(EtcdJSON.put(keys.nodes, String(n + 1)))]), failover: true)
            if result.succeeded { return n + 1 }
        }
    }

    /// Writes this daemon's member key, bound to its lease, with its namespaces digest.
    func putMember() async throws(EtcdError) {
        let (node, lease, digest) = state.withLock { ($0.shared.node, $0.lease, $0.shared.configDigest ?? "") }
        _ = try await client.call("kv/put", EtcdJSON.put(keys.members + String(node), digest, lease: lease))
    }

    // MARK: RouteStore

    package var sharesSessions: Bool { true }

    package func offerSession(token: String, session: UInt64, uid: UInt32, grace: Duration) {
        guard table.holdsRoutes(session: session) else { return }
        let expiry = table.clock.now().millisecondsSinceEpoch + max(1, grace.milliseconds)
        let seconds = max(2, Int((grace.milliseconds + 999) / 1000))
        sessions.continuation.yield(.offer(key: keys.tickets + token, value: "\(session) \(uid) \(expiry)", seconds: seconds))
    }

    package func claimSession(token: String, uid: UInt32,
                              completion: @escaping @Sendable (Result<UInt64?, RouteError>) -> Void) {
        let request = SessionRequest.claim(key: keys.tickets + token, uid: uid, completion: completion)
        if case .terminated = sessions.continuation.yield(request) {
            completion(.failure(.unavailable("routerd is stopping; the session was not resumed")))
        }
    }

    /// A resume ticket to write, or one to claim: done in order by `serveSessions`, in `run()`.
    enum SessionRequest: Sendable {
        case offer(key: String, value: String, seconds: Int)
        case claim(key: String, uid: UInt32, completion: @Sendable (Result<UInt64?, RouteError>) -> Void)
    }

    /// Writes and claims resume tickets until `run()` finishes the stream at shutdown, then
    /// the ones already asked for. A ticket outlives its daemon: it has a lease of its own, of
    /// the grace, and says when it lapses (`SESSION UID EXPIRY_MS`).
    func serveSessions() async {
        for await request in sessions.stream {
            switch request {
            case .offer(let key, let value, let seconds):
                if let lease = try? await client.grantLease(ttl: seconds) {
                    _ = try? await client.call("kv/put", EtcdJSON.put(key, value, lease: lease))
                }
            case .claim(let key, let uid, let completion):
                do {
                    completion(try await claim(key, uid: uid))
                } catch {
                    completion(.failure(.unavailable("the route store (\(location)) did not answer: \(error); the session was not resumed")))
                }
            }
        }
    }

    /// Takes the ticket `key` for a peer of `uid`: deleted if still the one read.
    func claim(_ key: String, uid: UInt32) async throws(EtcdError) -> Result<UInt64?, RouteError> {
        let now = table.clock.now().millisecondsSinceEpoch
        guard let ticket = try await client.range(EtcdJSON.range(key)).kvs.first else { return .success(nil) }
        let fields = ticket.value.split(separator: " ")
        guard fields.count == 3, let session = UInt64(fields[0]), let owner = UInt32(fields[1]), let expiry = Int64(fields[2]),
              expiry > now else { return .success(nil) }
        guard owner == uid else { return .failure(.forbidden("that session belongs to another user")) }
        let taken = try await client.txn(EtcdJSON.txn(compare: [EtcdJSON.modifiedAt(key, ticket.modRevision)],
                                                      success: [.delete(EtcdJSON.delete(key))]))
        return .success(taken.succeeded ? session : nil)
    }

    /// Sessions of other daemons whose member key has been gone for the grace, and was found
    /// gone by a read of the members made after it was first missed (a daemon that joined
    /// since the last read has a key this one has not seen yet).
    package func lapsedSessions(now: Int64) -> Set<UInt64> {
        let sessions = table.sessionIDs
        return state.withLock { s in
            guard !s.members.isEmpty else { return [] }
            var lapsed: Set<UInt64> = []
            var missing: [UInt64: Int64] = [:]
            for session in sessions {
                let owner = session >> SharedStoreState.nodeShift
                guard owner != s.shared.node, s.members[owner] == nil else { continue }
                let since = s.missingSince[owner] ?? now
                missing[owner] = since
                if since + grace.milliseconds <= now && s.membersReadAt > since { lapsed.insert(session) }
            }
            s.missingSince = missing
            return lapsed
        }
    }
}
