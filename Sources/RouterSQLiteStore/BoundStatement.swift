import GRDB
import GRDBSQLite

/// A cached GRDB statement run with SQLite's own binding calls: the writer's inserts take
/// their text straight from one buffer of the change's bytes, without GRDB's boxed
/// `StatementArguments` or a copy per value, which cost more than the insert itself in a bulk
/// load.
///
/// Text is bound without a copy (`SQLITE_STATIC`): the bytes must stay where they are until
/// `run()` returns, and every parameter is bound again before each run.
struct BoundStatement {
    let statement: Statement
    let db: Database

    init(_ sql: String, in db: Database) throws {
        statement = try db.cachedStatement(sql: sql)
        self.db = db
    }

    /// Binds parameter `index` (from 1) to `text`, which must outlive the next `run()`.
    func bind(_ index: Int32, _ text: UnsafeBufferPointer<UInt8>) {
        // SQLite reads a zero-length blob of text from a null pointer as NULL: point at
        // something for an empty string.
        let base = UnsafeRawPointer(text.baseAddress ?? ("" as StaticString).utf8Start)
        sqlite3_bind_text(statement.sqliteStatement, index, base.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(statement.sqliteStatement, index, value)
    }

    func bindNull(_ index: Int32) {
        sqlite3_bind_null(statement.sqliteStatement, index)
    }

    /// Runs the statement once with what is bound.
    func run() throws {
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code),
                                message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }
}
