import DomainRouter
import RouterEngine

/// One committed change as its log key holds it: the committing daemon's token, the revision
/// before it, and its events, one a line:
///
///     TOKEN BASE [PARTS]
///     KIND<TAB>STORED-ROUTE
///     …
///
/// The events' revisions are BASE+1, BASE+2, … in order. A change too large for one etcd
/// request keeps its events in PARTS keys of its own (`parts/TOKEN/N`), written before it
/// commits; its log value is then the first line alone.
struct EtcdCommitEntry: Sendable {
    var token: String
    var base: UInt64
    var events: [RouteEvent]
    /// How many part keys hold the events (0: they are in the entry).
    var parts: Int

    /// The revision of its last event.
    var last: UInt64 { base + UInt64(events.count) }

    /// The events' lines (without the first).
    static func lines(_ events: ArraySlice<RouteEvent>) -> String {
        var text = ""
        text.reserveCapacity(events.count * 360)
        for event in events {
            text += event.kind.rawValue
            text += "\t"
            text += StoredRoute.encode(event.route!)
            text += "\n"
        }
        return text
    }

    /// The first line.
    static func header(token: String, base: UInt64, parts: Int) -> String {
        parts > 0 ? "\(token) \(base) \(parts)\n" : "\(token) \(base)\n"
    }

    /// Reads an entry's first line: token, base and parts.
    static func header(_ text: Substring) throws(StoreFormatError) -> (token: String, base: UInt64, parts: Int) {
        let line = text.prefix(while: { $0 != "\n" })
        let fields = line.split(separator: " ")
        guard fields.count == 2 || fields.count == 3, let base = UInt64(fields[1]) else {
            throw StoreFormatError("a log entry does not start with TOKEN BASE: \(line.prefix(80))")
        }
        let parts = fields.count == 3 ? Int(fields[2]) : 0
        guard let parts, parts >= 0 else { throw StoreFormatError("a log entry's part count is not a number: \(line.prefix(80))") }
        return (String(fields[0]), base, parts)
    }

    /// The events of lines after `base`, numbered on from it.
    static func events(_ text: Substring, after base: UInt64) throws(StoreFormatError) -> [RouteEvent] {
        var events: [RouteEvent] = []
        var revision = base
        for line in text.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t"), let kind = RouteEvent.Kind(rawValue: String(line[..<tab])),
                  kind != .sync, kind != .reset else {
                throw StoreFormatError("a log line is not KIND<TAB>ROUTE: \(line.prefix(80))")
            }
            let route = try StoredRoute.decode(String(line[line.index(after: tab)...]))
            revision += 1
            events.append(RouteEvent(kind: kind, revision: revision, key: route.key, route: route))
        }
        return events
    }
}
