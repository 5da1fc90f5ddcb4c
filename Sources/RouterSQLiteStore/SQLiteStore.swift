#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import DomainRouter
import GRDB
import Logging
import RouterEngine
import ServiceLifecycle
import Synchronization

/// The table kept in a SQLite state file (`routerd --db PATH`): every change is drafted on
/// the in-memory table (`RouteTable.draft`), written to the file with its history in one
/// transaction, and only then applied to the table and answered. Watchers therefore never see
/// a change the file does not hold, and a restart continues the same revisions: the file keeps
/// the routes, the revision, the daemon's identity and every change (who, from where, the
/// route before and after).
///
/// One writer, GRDB's own queue, commits whatever has queued since its last commit in one
/// transaction (group commit), so a pipelined bulk load costs one commit per few thousand
/// changes. The file is in WAL mode; `synchronous` is `--sync`'s.
///
/// GRDB over sqlite-nio: the writer wants cached prepared statements and a plain loop on one
/// thread, and start-up reads every route in one pass; sqlite-nio prepares each statement anew
/// on a thread pool and hands each row to an event loop.
package final class SQLiteStore: DraftingStore, Service {
    package let table: RouteTable
    let path: String
    let pool: DatabasePool
    let lock: StateFileLock
    let logger: Logger
    let retention: HistoryRetention
    /// How long a lapsed route's name is kept for its owner (`--hold-released`); zero: not at all.
    let holdReleased: Duration
    /// The identity of this table's revisions, kept in the file.
    let instance: String
    /// Where this run's session numbers start: above every session the file's routes name.
    package let sessionBase: UInt64

    package typealias Pending = DraftWriter.Pending

    struct State {
        var expiring = false
        var problem: String?
        var stopping = false
        /// Names held for their last owners, by key (the file's `holds`, as committed).
        var holds: [String: HeldName] = [:]
        /// A checkpoint is running beside the writer.
        var checkpointing = false
        /// The log's frames the last checkpoint copied into the file.
        var checkpointedFrames: Int32 = 0
        /// The log's lengths, in frames of the file's page size, at which a checkpoint starts
        /// beside the writer and at which the writer runs one itself (see `watchLog`).
        var checkpointFrames: Int32 = 2048
        var writerCheckpointFrames: Int32 = 16384
    }

    let state = Mutex(State())
    /// The one writer: changes queue here, and `run()` commits them in runs.
    let writer = DraftWriter(limit: SQLiteStore.commitLimit)

    /// Where committed runs are answered (a serial queue: in commit order), beside the writer.
    let answers = DispatchQueue(label: "routerd-state-answers")

    /// The connection that checkpoints the log beside the writer, and its queue.
    let checkpointer: DatabaseQueue
    let checkpoints = DispatchQueue(label: "routerd-state-checkpoints")

    /// The most changes (adds, a batch's operations) one transaction takes.
    static let commitLimit = 4096

    init(table: RouteTable, path: String, pool: DatabasePool, checkpointer: DatabaseQueue, lock: StateFileLock,
         instance: String, sessionBase: UInt64, retention: HistoryRetention, holdReleased: Duration, holds: [HeldName],
         logger: Logger) {
        self.table = table
        self.path = path
        self.pool = pool
        self.checkpointer = checkpointer
        self.lock = lock
        self.instance = instance
        self.sessionBase = sessionBase
        self.retention = retention
        self.holdReleased = holdReleased
        self.logger = logger
        state.withLock { s in for held in holds { s.holds[held.key] = held } }
    }

    // MARK: Service

    /// Runs the writer, and prunes the history now and then, until shutdown; then lets the
    /// writer commit what was queued and closes the file. (The service group stops the
    /// services in reverse order: this one, first in it, last, once the server has answered
    /// what it read.)
    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.writer.run(self)
            }
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    self.prune()
                    try? await Task.sleep(for: .seconds(60))
                }
            }
            state.withLock { $0.stopping = true }
            // Changes already queued are written before the file closes.
            writer.finish()
            await group.waitForAll()
        }
        answers.sync {}
        checkpoints.sync {}
        try? checkpointer.close()
        do {
            // The whole log into the file, and the log emptied: the next start reads no log.
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        } catch {
            logger.warning("state file log not emptied at stop", metadata: ["db": "\(path)", "error": "\(error)"])
        }
        do {
            try pool.close()
            logger.info("state file closed", metadata: ["db": "\(path)"])
        } catch {
            logger.warning("state file close failed", metadata: ["db": "\(path)", "error": "\(error)"])
        }
    }

    // MARK: RouteStore

    /// Resume tokens live in the file (offered when a connection with session routes closes),
    /// so that a client can resume its session within the grace even across a restart.
    package var sharesSessions: Bool { true }

    package func offerSession(token: String, session: UInt64, uid: UInt32, grace: Duration) {
        guard table.holdsRoutes(session: session) else { return }
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO tickets (token, session, uid) VALUES (?, ?, ?)",
                               arguments: [token, Int64(session), Int64(uid)])
            }
        } catch {
            logger.warning("resume token not kept", metadata: ["db": "\(path)", "error": "\(error)"])
        }
    }

    package func claimSession(token: String, uid: UInt32,
                              completion: @escaping @Sendable (Result<UInt64?, RouteError>) -> Void) {
        let table = self.table
        let path = self.path
        pool.asyncWriteWithoutTransaction { db in
            do {
                guard let row = try Row.fetchOne(db, sql: "SELECT session, uid FROM tickets WHERE token = ?", arguments: [token]) else {
                    return completion(.success(nil))
                }
                let session = UInt64(row[0] as Int64)
                guard UInt32(row[1] as Int64) == uid else {
                    return completion(.failure(.forbidden("that session belongs to another user")))
                }
                try db.execute(sql: "DELETE FROM tickets WHERE token = ?", arguments: [token])
                completion(.success(table.holdsRoutes(session: session) ? session : nil))
            } catch {
                completion(.failure(.unavailable("the state file \(path) could not be read: \(error); the session was not resumed")))
            }
        }
    }

    /// Drafts the expiry of what is due (TTLs, sessions past their grace) and commits it like
    /// any change. At most one expiry is in flight.
    package func expire(completion: @escaping @Sendable (Int) -> Void) {
        let now = table.clock.now().millisecondsSinceEpoch
        let due = table.nextDeadline.map { $0 <= now } ?? false
        let start = state.withLock { s -> Bool in
            guard due, !s.expiring, !s.stopping else { return false }
            s.expiring = true
            return true
        }
        guard start else { return completion(0) }
        enqueue([.expireDue], principal: "routerd", peer: "") { outcomes in
            self.state.withLock { $0.expiring = false }
            if case .expired(let n) = outcomes[0] { return completion(n) }
            completion(0)
        }
    }

    package func heldName(_ key: String) -> HeldName? {
        guard holdReleased > .zero else { return nil }
        let now = table.clock.now()
        if let held = state.withLock({ $0.holds[key] }), held.until > now { return held }
        // A route whose TTL ran out a moment ago, not yet swept, is as good as held.
        let kind: RouteKind = key.hasPrefix("*.") ? .wildcard : key.hasPrefix("tcp:") ? .tcp : .host
        guard let route = table.stored(key: key, kind: kind), let expires = route.expiresAt, expires <= now else { return nil }
        return lapsedHold(route)
    }

    /// The hold a lapsed route's name gets when the sweep removes it.
    private func lapsedHold(_ route: Route) -> HeldName? {
        guard holdReleased > .zero, let expires = route.expiresAt else { return nil }
        return HeldName(key: route.key, owner: route.owner,
                        until: Timestamp(millisecondsSinceEpoch: expires.millisecondsSinceEpoch + holdReleased.milliseconds))
    }

    /// The names held now: those the file records, and, as `heldName` counts them, routes
    /// whose TTL ran out a moment ago and that the sweep has not removed yet, so that a list
    /// and a lookup agree at every moment.
    package func heldNames(prefix: String?, owner: String?) -> [HeldName] {
        let now = table.clock.now()
        var held = state.withLock { s in s.holds.filter { $0.value.until > now } }
        if holdReleased > .zero {
            for route in table.lapsedRoutes() where held[route.key] == nil {
                held[route.key] = lapsedHold(route)
            }
        }
        return held.values.filter { name in
            (owner.map { name.owner == $0 } ?? true) && (prefix.map { name.key.hasPrefix($0) } ?? true)
        }.sorted { $0.key < $1.key }
    }

    package var status: StoreStatus {
        let problem = state.withLock { $0.problem }
        return StoreStatus(kind: "sqlite", id: instance, location: path, available: problem == nil, problem: problem)
    }
}

/// How long the history keeps changes: those older than `age`, and all but the newest `rows`,
/// are pruned once a minute.
package struct HistoryRetention: Sendable {
    package var age: Duration
    package var rows: Int

    package init(age: Duration, rows: Int) {
        self.age = age
        self.rows = rows
    }
}
