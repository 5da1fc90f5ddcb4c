import Foundation
import GRDBSQLite

/// The baseline of `router-bench persist`: SQLite alone writing the rows 100,000 adds leave in
/// a routerd state file (each route, and its history entry under the three history indexes),
/// through SQLite's C API with prepared statements, in transactions of 4,096 changes and on the
/// pragmas routerd sets: what the file costs with no table, protocol or reply around it.
struct SQLiteFloor {
    /// A state file routerd made (its schema, empty).
    var path: String
    var count = 100_000

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Seconds to write `count` adds' rows.
    func run() throws -> Double {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
            throw Failure(description: "cannot open \(path)")
        }
        defer { sqlite3_close_v2(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw Failure(description: "\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
        func prepare(_ sql: String) throws -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
                throw Failure(description: "\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
            return statement
        }
        // Checkpoints where routerd's writer forces them (64 MiB of log); routerd copies the log
        // beside its writer before then.
        try exec("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824; PRAGMA wal_autocheckpoint = 16384")
        let upsert = try prepare("INSERT OR REPLACE INTO routes (key, record) VALUES (?, ?)")
        let record = try prepare("""
            INSERT INTO history (revision, at, kind, key, owner, tunnel, principal, peer, before, after)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        defer {
            sqlite3_finalize(upsert)
            sqlite3_finalize(record)
        }
        // The rows as routerd writes them: the same keys, version 7 tunnel ids, stored routes.
        let at: Int64 = 1_796_000_000_000
        let rows: [(key: String, tunnel: String, route: String)] = (0..<count).map { i in
            let key = "bulk\(i).localhost"
            let tunnel = String(format: "%08x-%04x-7%03x-8%03x-%012llx", UInt32(at >> 16), UInt32(at & 0xFFFF),
                                i & 0xFFF, (i >> 12) & 0xFFF, UInt64(i) &* 0x9E37_79B9_7F4A)
            let route = #"{"key":"\#(key)","kind":"host","tunnel":"\#(tunnel)","owner":"root","created":\#(at),"updated":\#(at),"create_rev":\#(i + 1),"mod_rev":\#(i + 1)}"#
            return (key, tunnel, route)
        }
        func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
            var text = text
            text.withUTF8 { bytes in
                _ = sqlite3_bind_text(statement, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                                      Int32(bytes.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
        }
        func step(_ statement: OpaquePointer) throws {
            defer { sqlite3_reset(statement) }
            guard sqlite3_step(statement) == SQLITE_DONE else {
                throw Failure(description: String(cString: sqlite3_errmsg(db)))
            }
        }
        let start = MonotonicTime.now()
        for first in stride(from: 0, to: count, by: 4096) {
            try exec("BEGIN IMMEDIATE")
            for i in first..<min(first + 4096, count) {
                let row = rows[i]
                bind(upsert, 1, row.key)
                bind(upsert, 2, row.route)
                try step(upsert)
                sqlite3_bind_int64(record, 1, Int64(i + 1))
                sqlite3_bind_int64(record, 2, at)
                bind(record, 3, "add")
                bind(record, 4, row.key)
                bind(record, 5, "root")
                bind(record, 6, row.tunnel)
                bind(record, 7, "root")
                bind(record, 8, "uid 0 pid 1")
                sqlite3_bind_null(record, 9)
                bind(record, 10, row.route)
                try step(record)
            }
            try exec("UPDATE meta SET value = '\(min(first + 4096, count))' WHERE name = 'revision'; COMMIT")
        }
        return MonotonicTime.seconds(since: start)
    }
}
