import GRDB
import GRDBSQLite

/// A cached GRDB statement run with SQLite's own binding calls: the writer's inserts take
/// strings and integers straight from the change, without GRDB's boxed `StatementArguments`,
/// which cost more than the insert itself in a bulk load.
struct BoundStatement {
    let statement: Statement
    let db: Database

    init(_ sql: String, in db: Database) throws {
        statement = try db.cachedStatement(sql: sql)
        self.db = db
    }

    /// What one parameter is bound to.
    enum Value {
        case text(String)
        case integer(Int64)
        case null
    }

    /// Binds `values` to the parameters in order and runs the statement once.
    func run(_ values: Value...) throws {
        let s = statement.sqliteStatement
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .text(var text):
                text.withUTF8 { bytes in
                    _ = sqlite3_bind_text(s, position, bytes.baseAddress, Int32(bytes.count), Self.transient)
                }
            case .integer(let n):
                sqlite3_bind_int64(s, position, n)
            case .null:
                sqlite3_bind_null(s, position)
            }
        }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code),
                                message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
