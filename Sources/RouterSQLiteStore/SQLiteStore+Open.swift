#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import DomainRouter
import GRDB
import Logging
import RouterEngine
import Synchronization

/// Opening a state file: the lock, the checks, the schema, and loading the table.
extension SQLiteStore {
    /// SQLite's `synchronous` level (`--sync`).
    package enum Sync: String, Sendable, CaseIterable {
        /// An acknowledged change survives the process's death (WAL with `synchronous=NORMAL`).
        case normal
        /// It also survives the machine's (every commit is synced to disk).
        case full
    }

    /// Opens (or creates, mode 0600) the state file at `path` and loads `table` from it: the
    /// routes with every field, the revision, the identity, and the newest history the table
    /// keeps for watches to resume from. Session routes from before the restart are held for
    /// `grace`, then go. Throws, naming the file and what to do, when another routerd holds it,
    /// when SQLite finds it damaged, or when a newer routerd wrote it; such a file is never
    /// written to.
    package static func open(path: String, table: RouteTable, sync: Sync, grace: Duration,
                             retention: HistoryRetention, holdReleased: Duration = .zero, logger: Logger) throws(StateFileError) -> SQLiteStore {
        if access(path, F_OK) != 0 {
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0, errno != EEXIST {
                let cause = errno
                throw diskFull(path, cause) ?? StateFileError("cannot create the state file \(path): \(String(cString: strerror(cause)))")
            }
            if fd >= 0 { close(fd) }
        }
        // The lock first (on the file itself, whatever names it), then a look at what the file
        // is, before anything may write to it.
        let lock = try StateFileLock(for: path)
        let verdict = try StateFileInspection.inspect(path)
        var configuration = Configuration()
        configuration.label = "routerd-state"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // A new file gets 16 KiB pages (before the pool makes it a WAL file, after which the
            // size is fixed): fewer, wider B-tree pages make the writer's inserts cheaper. An
            // existing file keeps its own size.
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA synchronous = \(sync == .full ? "FULL" : "NORMAL")")
            // The writer touches pages all over the key indexes: keep them in memory (64 MiB of
            // cache; reads through mmap). Checkpoints are the store's (`watchLog`).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
        }
        let pool: DatabasePool
        let checkpointer: DatabaseQueue
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            var own = Configuration()
            own.label = "routerd-state-checkpoint"
            own.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = \(sync == .full ? "FULL" : "NORMAL")")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            checkpointer = try DatabaseQueue(path: path, configuration: own)
        } catch {
            throw damaged(path, error)
        }
        do {
            let loaded = try prepare(pool, path: path, table: table, checked: verdict == .stateFile(checked: true))
            let store = SQLiteStore(table: table, path: path, pool: pool, checkpointer: checkpointer, lock: lock,
                                    instance: loaded.instance, sessionBase: loaded.sessionBase, retention: retention,
                                    holdReleased: holdReleased, holds: loaded.holds, logger: logger)
            store.watchLog()
            // Sessions of the run before: their connections are gone; their routes wait out the
            // grace, then expire with events.
            for session in table.sessionIDs { table.noteSessionEnded(session, grace: grace) }
            logger.info("state file opened", metadata: [
                "db": "\(path)", "routes": "\(loaded.routes)", "revision": "\(table.revision)",
                "sessions held": "\(table.sessionIDs.count)",
            ])
            return store
        } catch {
            try? checkpointer.close()
            try? pool.close()
            throw error
        }
    }

    /// Reads the identity, the routes and the recent history, and loads them into `table`.
    private static func load(_ db: Database, path: String, table: RouteTable) throws -> (String, UInt64, Int, [HeldName]) {
        guard let instance = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'instance'"),
              let revisionText = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'"),
              let revision = UInt64(revisionText) else {
            throw StateFileError("the state file \(path) has no identity or revision: it is not a routerd state file")
        }
        var history: [RouteEvent] = []
        let limit = table.configuration.historyLimit
        let events = try Row.fetchCursor(db, sql: """
            SELECT revision, kind, key, before, after FROM history ORDER BY revision DESC LIMIT ?
            """, arguments: [limit])
        while let row = try events.next() {
            let revision: Int64 = row[0]
            let kindText: String = row[1]
            guard let kind = RouteEvent.Kind(rawValue: kindText), let text: String = row[4] ?? row[3] else {
                throw StoreFormatError("history entry \(revision) has no kind or route")
            }
            history.append(RouteEvent(kind: kind, revision: UInt64(revision), key: row[2], route: try StoredRoute.decode(text)))
        }
        // This thread reads and decodes the routes a chunk at a time; another stores them in
        // the table meanwhile. A chunk: enough routes that a handoff is rare, few enough that
        // both threads start working at once.
        let chunkSize = 8192
        let handoff = ChunkQueue<Route>(depth: 4)
        let stored = DispatchSemaphore(value: 0)
        let replayed = Array(history.reversed())
        DispatchQueue.global().async {
            try? table.load(revision: revision, history: replayed,
                            reason: .reset("the table was loaded from its state file"), chunks: handoff.next)
            stored.signal()
        }
        var count = 0
        var sessionBase: UInt64 = 0
        let reading = Result { () throws -> Void in
            var chunk: [Route] = []
            chunk.reserveCapacity(chunkSize)
            let rows = try String.fetchCursor(db, sql: "SELECT record FROM routes")
            while let record = try rows.next() {
                let route = try StoredRoute.decode(record)
                if let session = route.session { sessionBase = max(sessionBase, session) }
                chunk.append(route)
                if chunk.count == chunkSize {
                    count += chunk.count
                    handoff.put(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            count += chunk.count
            handoff.put(chunk)
        }
        // A read that failed ends the load with it: the table stays as it was.
        if case .failure(let error) = reading { handoff.finish(failure: error) } else { handoff.finish() }
        stored.wait()
        try reading.get()
        // New sessions are numbered above every session a route or a token names, so
        // that an old token can never name a new connection's session.
        if let highest = try Int64.fetchOne(db, sql: "SELECT max(session) FROM tickets") {
            sessionBase = max(sessionBase, UInt64(highest))
        }
        let now = table.clock.now().millisecondsSinceEpoch
        let holds = try Row.fetchAll(db, sql: "SELECT key, owner, until FROM holds WHERE until > ?", arguments: [now]).map {
            HeldName(key: $0[0], owner: $0[1], until: Timestamp(millisecondsSinceEpoch: $0[2]))
        }
        return (instance, sessionBase, count, holds)
    }

    /// SQLite's `quick_check`: every page of every table and index read and checked.
    private static func check(_ db: Database, path: String) throws {
        let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard check == ["ok"] else { throw StateFileInspection.failedCheck(path, check) }
    }

    static func damaged(_ path: String, _ error: any Error) -> StateFileError {
        if let full = diskFull(path, (error as? DatabaseError)?.resultCode == .SQLITE_FULL ? ENOSPC : nil) { return full }
        return StateFileError("the state file \(path) cannot be read (\(error)): it is damaged or not a routerd state file; " +
                       "move it aside to start with an empty table, or restore a backup")
    }

    /// A full disk said as such (a full disk is no damaged file: moving the file aside would
    /// lose every route): when `cause` is `ENOSPC`, or when the file system holding `path` has
    /// no block left for routerd. Nil when the disk has room.
    static func diskFull(_ path: String, _ cause: Int32?) -> StateFileError? {
        var fs = statvfs()
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let noRoom = statvfs(directory.isEmpty ? "/" : directory, &fs) == 0 && fs.f_bavail == 0
        guard cause == ENOSPC || noRoom else { return nil }
        var info = stat()
        let kept = stat(path, &info) == 0 && info.st_size > 0
        return StateFileError("the disk holding the state file \(path) is full (no space left on the file system of " +
                              "\(directory.isEmpty ? "/" : directory)): free some space there and start routerd again" +
                              (kept ? "; the file is not damaged, keep it" : ""))
    }

    /// Checks the file (unless `checked`: its inspection ran SQLite's check already), marks it
    /// as routerd's, brings its schema up to date, and loads the table.
    private static func prepare(_ pool: DatabasePool, path: String, table: RouteTable, checked alreadyChecked: Bool)
        throws(StateFileError) -> (instance: String, sessionBase: UInt64, routes: Int, holds: [HeldName]) {
        do {
            // The schema first: a newer one is refused; an older one is checked, then brought up
            // to date (a migration writes, so it must not write into a damaged file).
            let checked = try pool.barrierWriteWithoutTransaction { db throws -> Bool in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                guard version <= StateSchema.current else { throw StateFileInspection.newer(path, version) }
                let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                guard version < StateSchema.current else {
                    // A file of an earlier routerd that did not mark its files yet.
                    if application != StateFileInspection.applicationID {
                        try db.execute(sql: "PRAGMA application_id = \(StateFileInspection.applicationID)")
                    }
                    return alreadyChecked
                }
                if !alreadyChecked { try check(db, path: path) }
                try db.inTransaction {
                    try db.execute(sql: "PRAGMA application_id = \(StateFileInspection.applicationID)")
                    for step in version..<StateSchema.current { try db.execute(sql: StateSchema.migrations[step]) }
                    if version == 0 {
                        try db.execute(sql: "INSERT INTO meta (name, value) VALUES ('instance', ?), ('revision', '0')",
                                       arguments: [Self.freshInstance()])
                    }
                    try db.execute(sql: "PRAGMA user_version = \(StateSchema.current)")
                    return .commit
                }
                return true
            }
            // SQLite's integrity check reads every page of the file, and the load reads the
            // routes and the recent history: both only read, so they run side by side on two
            // of the pool's connections, and the file is refused if the check fails.
            let failure = Mutex<(any Error)?>(nil)
            let done = DispatchSemaphore(value: 0)
            if checked {
                done.signal()
            } else {
                DispatchQueue.global().async {
                    do { try pool.read { try check($0, path: path) } } catch { failure.withLock { $0 = error } }
                    done.signal()
                }
            }
            let loading = Result { try pool.read { try load($0, path: path, table: table) } }
            // Never return (and close the pool) while the check still reads; its verdict first.
            done.wait()
            if let error = failure.withLock({ $0 }) { throw error }
            return try loading.get()
        } catch let error as StateFileError {
            throw error
        } catch let error as StoreFormatError {
            throw StateFileError("the state file \(path) holds something routerd did not write there (\(error)): " +
                                 "move it aside to start with an empty table, or restore a backup")
        } catch {
            throw damaged(path, error)
        }
    }

    static func freshInstance() -> String {
        ProcessFacts.sequenceID()
    }
}
