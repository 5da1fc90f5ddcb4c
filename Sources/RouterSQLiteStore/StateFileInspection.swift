#if canImport(Glibc)
import Glibc
#endif
import GRDBSQLite

/// What a state file is, found out before anything writes to it: a file routerd refuses is left
/// exactly as it was — no byte of it changed, no `-wal` or `-shm` beside it.
///
/// First SQLite's 100-byte header, read as bytes: the magic string, the `application_id` routerd
/// marks its files with, the schema version (`user_version`). Then, through a read-only,
/// `immutable` connection (no locks, no journal, nothing created), the schema and SQLite's
/// `quick_check`. A file with a non-empty `-wal` beside it was in use when its routerd stopped:
/// its newest pages are in that log, which only a read-write connection replays, so its checks
/// wait for the pool (the log is there already; nothing new is left beside it).
enum StateFileInspection {
    /// SQLite's `application_id` of routerd's state files: "RTRD".
    static let applicationID: Int32 = 0x5254_5244

    /// What the inspection found.
    enum Verdict: Equatable {
        /// Empty, or an SQLite database without a single table: made into a state file.
        case empty
        /// A routerd state file. `checked`: its integrity check has passed already.
        case stateFile(checked: Bool)
    }

    /// Inspects the existing file at `path`, throwing, with what it is and what to do, when
    /// routerd must not use it.
    static func inspect(_ path: String) throws(StateFileError) -> Verdict {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw StateFileError("cannot read the state file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_size > 0 else { return .empty }
        let header = try readHeader(path, size: Int(info.st_size))
        guard header.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw notADatabase(path, "it does not begin with SQLite's header")
        }
        let userVersion = Int(bigEndian32(header, 60))
        let application = bigEndian32(header, 68)
        guard application == 0 || application == applicationID else {
            throw StateFileError("the file \(path) is an SQLite database of another application (application_id " +
                                 "0x\(String(UInt32(bitPattern: application), radix: 16))), not a routerd state file: " +
                                 "give routerd another --db")
        }
        guard userVersion <= StateSchema.current else { throw newer(path, userVersion) }
        if walInUse(path) { return .stateFile(checked: false) }
        return try readOnly(path) { db throws(StateFileError) -> Verdict in
            let tables = try strings(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", path)
            if tables.isEmpty { return .empty }
            guard tables.contains("meta"), tables.contains("routes"), userVersion > 0 || application == applicationID else {
                throw StateFileError("the file \(path) is an SQLite database but not a routerd state file (its tables: " +
                                     "\(tables.prefix(5).joined(separator: ", "))\(tables.count > 5 ? ", …" : "")): " +
                                     "give routerd another --db")
            }
            let check = try strings(db, "PRAGMA quick_check", path)
            guard check == ["ok"] else { throw failedCheck(path, check) }
            return .stateFile(checked: true)
        }
    }

    /// What `quick_check` found wrong, and what to do.
    static func failedCheck(_ path: String, _ check: [String]) -> StateFileError {
        StateFileError("the state file \(path) fails SQLite's integrity check (\(check.prefix(3).joined(separator: "; "))): " +
                       "move it aside to start with an empty table, or restore a backup")
    }

    static func newer(_ path: String, _ version: Int) -> StateFileError {
        StateFileError("the state file \(path) was written by a newer routerd (schema \(version); this one knows " +
                       "up to \(StateSchema.current)): run that routerd, or restore a backup made by this one")
    }

    static func notADatabase(_ path: String, _ why: String) -> StateFileError {
        StateFileError("the file \(path) is not an SQLite database (\(why)): it is damaged or not a routerd state file; " +
                       "move it aside to start with an empty table, or restore a backup")
    }

    /// The first 100 bytes.
    private static func readHeader(_ path: String, size: Int) throws(StateFileError) -> [UInt8] {
        guard size >= 100 else { throw notADatabase(path, "it is \(size) bytes long, shorter than SQLite's header") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StateFileError("cannot read the state file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        let n = pread(fd, &header, 100, 0)
        guard n == 100 else { throw StateFileError("cannot read the state file \(path): \(n < 0 ? String(cString: strerror(errno)) : "short read")") }
        return header
    }

    private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> Int32 {
        Int32(bitPattern: UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
    }

    /// Whether a non-empty write-ahead log lies beside the file.
    private static func walInUse(_ path: String) -> Bool {
        var info = stat()
        return stat(path + "-wal", &info) == 0 && info.st_size > 0
    }

    /// Runs `body` on a read-only, immutable connection to `path`.
    private static func readOnly<T>(_ path: String, _ body: (OpaquePointer) throws(StateFileError) -> T) throws(StateFileError) -> T {
        var db: OpaquePointer?
        let code = sqlite3_open_v2(uri(path), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        defer { sqlite3_close_v2(db) }
        guard code == SQLITE_OK, let db else {
            throw notADatabase(path, db.map { String(cString: sqlite3_errmsg($0)) } ?? "SQLite cannot open it")
        }
        return try body(db)
    }

    /// Every row's first column of `sql`, as text.
    private static func strings(_ db: OpaquePointer, _ sql: String, _ path: String) throws(StateFileError) -> [String] {
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        var rows: [String] = []
        var code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        while code == SQLITE_OK || code == SQLITE_ROW {
            code = sqlite3_step(statement)
            if code == SQLITE_ROW { rows.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "") }
        }
        guard code == SQLITE_DONE else {
            throw StateFileError("the state file \(path) cannot be read (\(String(cString: sqlite3_errmsg(db)))): it is damaged " +
                                 "or not a routerd state file; move it aside to start with an empty table, or restore a backup")
        }
        return rows
    }

    /// `file:` URI of `path`, read-only and immutable (SQLite takes no lock and creates nothing:
    /// safe, since routerd holds the file's own lock).
    private static func uri(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0..<0x20, 0x7F...:
                escaped += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            default:
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        // An absolute path gets an empty authority (`file:///…`), so that `//` cannot start one.
        return (path.hasPrefix("/") ? "file://" : "file:") + escaped + "?mode=ro&immutable=1"
    }
}
