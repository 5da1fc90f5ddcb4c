import DomainRouter
import RouterEngine

extension StoredRoute {
    /// The change a stream entry records: `[id, [field, value, …]]` with fields `k` (the event's
    /// kind) and `r` (the route after an add or update, as it was for a delete or expire).
    static func event(_ entry: RESPEntry) throws(StoreFormatError) -> RouteEvent {
        guard let dash = entry.id.firstIndex(of: "-"), let revision = UInt64(entry.id[..<dash]) else {
            throw StoreFormatError("a change's id \(entry.id) is not a revision")
        }
        guard let kindText = entry.fields["k"], let kind = RouteEvent.Kind(rawValue: kindText),
              kind != .sync, kind != .reset, let record = entry.fields["r"] else {
            throw StoreFormatError("change \(entry.id) has no kind or route")
        }
        let route = try decode(record)
        return RouteEvent(kind: kind, revision: revision, key: route.key, route: route)
    }
}

/// A stream entry as `XRANGE` and `XREAD` give it.
struct RESPEntry {
    var id: String
    var fields: [String: String]
}
