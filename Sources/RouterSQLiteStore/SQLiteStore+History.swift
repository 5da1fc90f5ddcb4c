import DomainRouter
import GRDB
import RouterEngine

/// Reading the change history: on one of GRDB's reader connections (WAL lets them read while
/// the writer commits), never on the caller's thread.
extension SQLiteStore {
    package func history(_ query: HistoryQuery, completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void) {
        let path = self.path
        pool.asyncRead { result in
            do {
                let db = try result.get()
                completion(.success(try Self.page(query, in: db)))
            } catch let error as StoreFormatError {
                completion(.failure(.unavailable("the history in \(path) holds something routerd did not write there: \(error)")))
            } catch {
                completion(.failure(.unavailable("the history in \(path) could not be read: \(error)")))
            }
        }
    }

    /// One page, newest first: the filters, then the revisions below `before`, stopping at
    /// `since` (times rise with revisions).
    static func page(_ query: HistoryQuery, in db: Database) throws -> HistoryPage {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let key = query.key { conditions.append("key = ?"); arguments.append(key) }
        if let owner = query.owner {
            // The owner's changes, and with a shared area, the changes to keys in it.
            var either = ["owner = ?"]
            arguments.append(owner)
            for domain in query.shared?.domains ?? [] {
                either.append("key = ?")
                arguments.append(domain)
                either.append(#"key LIKE ? ESCAPE '\'"#)
                arguments.append("%." + Self.likeEscaped(domain))
            }
            for ports in query.shared?.ports ?? [] {
                either.append("(substr(key, 1, 4) = 'tcp:' AND CAST(substr(key, 5) AS INTEGER) BETWEEN ? AND ?)")
                arguments.append(Int(ports.lowerBound))
                arguments.append(Int(ports.upperBound))
            }
            conditions.append(either.count == 1 ? either[0] : "(" + either.joined(separator: " OR ") + ")")
        }
        if let tunnel = query.tunnel { conditions.append("tunnel = ?"); arguments.append(tunnel) }
        if let before = query.before { conditions.append("revision < ?"); arguments.append(Int64(clamping: before)) }
        if let since = query.since { conditions.append("at >= ?"); arguments.append(since.millisecondsSinceEpoch) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(query.limit + 1)
        let rows = try Row.fetchAll(db, sql: """
            SELECT revision, at, kind, key, principal, peer, before, after FROM history \(filter)
            ORDER BY revision DESC LIMIT ?
            """, arguments: StatementArguments(arguments))
        var entries: [HistoryEntry] = []
        for row in rows.prefix(query.limit) {
            let revision: Int64 = row[0]
            let kindText: String = row[2]
            guard let kind = RouteEvent.Kind(rawValue: kindText) else {
                throw StoreFormatError("history entry \(revision) has the kind '\(kindText)'")
            }
            let before: String? = row[6]
            let after: String? = row[7]
            entries.append(HistoryEntry(
                revision: UInt64(revision), at: Timestamp(millisecondsSinceEpoch: row[1]), kind: kind, key: row[3],
                principal: row[4], peer: row[5], before: try before.map(StoredRoute.decode), after: try after.map(StoredRoute.decode)))
        }
        return HistoryPage(entries: entries, next: rows.count > query.limit ? entries.last?.revision : nil)
    }

    /// `text` for a LIKE pattern with `\` as its escape: `%`, `_` and `\` match only themselves.
    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
