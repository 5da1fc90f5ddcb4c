import DomainRouter
import RouterProtocol

/// Routes and changes as the Redis store keeps them: a route as one JSON object with every
/// field (times in milliseconds, revisions, the session), and a change as a stream entry whose
/// id is its revision. Unlike the wire's route object, nothing is left out or rounded, so a
/// replica built from it equals the table that made it.
enum StoredRoute {
    static func encode(_ route: Route) -> String {
        // Written field by field (no JSONValue tree): every committed change encodes its route.
        var out = JSONWriter(capacity: 320)
        func number(_ value: Int64) { out.append(UInt64(max(0, value))) }
        out.append(#"{"key":"#)
        out.write(string: route.key)
        out.append(#","kind":""#)
        out.append(route.kind.rawValue)
        out.append(#"","tunnel":"#)
        out.write(string: route.tunnel.rawValue)
        out.append(#","owner":"#)
        out.write(string: route.owner)
        out.append(#","created":"#)
        number(route.createdAt.millisecondsSinceEpoch)
        out.append(#","updated":"#)
        number(route.updatedAt.millisecondsSinceEpoch)
        out.append(#","create_rev":"#)
        out.append(route.createRevision)
        out.append(#","mod_rev":"#)
        out.append(route.modRevision)
        if let target = route.target {
            out.append(#","target":"#)
            out.write(string: target.description)
        }
        if !route.labels.isEmpty {
            out.append(#","labels":"#)
            out.write(.object(route.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        if let session = route.session {
            out.append(#","session":"#)
            out.append(session)
        }
        if let expires = route.expiresAt {
            out.append(#","expires":"#)
            number(expires.millisecondsSinceEpoch)
        }
        if let ttl = route.ttl {
            out.append(#","ttl_ms":"#)
            number(ttl.milliseconds)
        }
        out.append(byte: UInt8(ascii: "}"))
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// The route a stored object describes; nil (with the reason) when it is not one.
    static func decode(_ text: String) throws(StoreFormatError) -> Route {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw StoreFormatError("a stored route is not JSON (\(error)): \(text.prefix(120))")
        }
        func string(_ name: String) throws(StoreFormatError) -> String {
            guard let s = value[name]?.stringValue else { throw StoreFormatError("a stored route has no \(name): \(text.prefix(120))") }
            return s
        }
        func number(_ name: String) throws(StoreFormatError) -> Int64 {
            guard let n = value[name]?.integerValue else { throw StoreFormatError("a stored route has no \(name): \(text.prefix(120))") }
            return n
        }
        func optional(_ name: String) throws(StoreFormatError) -> Int64? {
            guard value[name] != nil else { return nil }
            return try number(name)
        }
        do {
            guard let kind = RouteKind(rawValue: try string("kind")) else {
                throw StoreFormatError("a stored route has an unknown kind: \(text.prefix(120))")
            }
            var labels: [String: String] = [:]
            if case .object(let members)? = value["labels"] {
                for (name, v) in members { labels[name] = v.stringValue ?? "" }
            }
            return Route(
                key: try string("key"), kind: kind, tunnel: try TunnelID(try string("tunnel")),
                target: try value["target"]?.stringValue.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) },
                labels: labels, owner: try string("owner"),
                session: try optional("session").map { UInt64($0) },
                createdAt: Timestamp(millisecondsSinceEpoch: try number("created")),
                updatedAt: Timestamp(millisecondsSinceEpoch: try number("updated")),
                expiresAt: try optional("expires").map { Timestamp(millisecondsSinceEpoch: $0) },
                ttl: try optional("ttl_ms").map { Duration.milliseconds($0) },
                createRevision: UInt64(try number("create_rev")), modRevision: UInt64(try number("mod_rev")))
        } catch let error as StoreFormatError {
            throw error
        } catch {
            throw StoreFormatError("a stored route does not parse (\(error)): \(text.prefix(120))")
        }
    }

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

/// Something in Redis under the table's keys is not what a routerd writes there.
struct StoreFormatError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

