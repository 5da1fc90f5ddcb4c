import DomainRouter
import RouterProtocol

extension Route {
    /// A route from the protocol's route object (docs/protocol.md, "Routes"), as an admin sees
    /// it: with its target and labels. The session is not kept: a replica never ends sessions
    /// itself, it applies the `expire` events of the daemon that does.
    init(wire v: JSONValue) throws(FollowError) {
        func field(_ name: String) throws(FollowError) -> String {
            guard let text = v[name]?.stringValue else { throw FollowError("a route without its '\(name)' field: \(JSONWriter.encode(v).prefix(200))") }
            return text
        }
        func time(_ name: String) throws(FollowError) -> Timestamp {
            guard let ms = WireTime.milliseconds(rfc3339: try field(name)) else {
                throw FollowError("a route whose '\(name)' is not an RFC 3339 time: \(JSONWriter.encode(v).prefix(200))")
            }
            return Timestamp(millisecondsSinceEpoch: ms)
        }
        let key = try field("key")
        guard let kind = RouteKind(rawValue: try field("kind")) else { throw FollowError("route \(key) has an unknown kind") }
        let tunnel: TunnelID
        do { tunnel = try TunnelID(try field("tunnel")) } catch { throw FollowError("route \(key): \(error)") }
        var target: RouteTarget?
        if let text = v["target"]?.stringValue {
            do { target = try RouteTarget(parsing: text) } catch { throw FollowError("route \(key): \(error)") }
        }
        var labels: [String: String] = [:]
        if case .object(let members)? = v["labels"] {
            for (name, value) in members { labels[name] = value.stringValue }
        }
        func blocks(_ name: String) -> [String] {
            guard case .array(let items)? = v[name] else { return [] }
            return items.compactMap(\.stringValue)
        }
        let access: AccessRules
        do { access = try AccessRules(allow: blocks("allow"), deny: blocks("deny")) } catch { throw FollowError("route \(key): \(error)") }
        var expiresAt: Timestamp?
        if v["expires_at"]?.stringValue != nil { expiresAt = try time("expires_at") }
        self.init(key: key, kind: kind, tunnel: tunnel, target: target, labels: labels, access: access, owner: try field("owner"),
                  createdAt: try time("created_at"), updatedAt: try time("updated_at"), expiresAt: expiresAt,
                  ttl: v["ttl"]?.doubleValue.map { .milliseconds(Int64($0 * 1000)) },
                  createRevision: UInt64(max(0, v["create_revision"]?.integerValue ?? 0)),
                  modRevision: UInt64(max(0, v["mod_revision"]?.integerValue ?? 0)))
    }
}

extension RouteEvent {
    /// A change from a watch's `event` object; nil for `sync`, which changes nothing.
    init?(wire v: JSONValue) throws(FollowError) {
        guard let type = v["type"]?.stringValue, let revision = v["revision"]?.integerValue, revision >= 0 else {
            throw FollowError("a watch event without its type or revision: \(JSONWriter.encode(v).prefix(200))")
        }
        guard type != "sync" else { return nil }
        guard let kind = Kind(rawValue: type), let key = v["key"]?.stringValue else {
            throw FollowError("a watch event of unknown type '\(type)'")
        }
        var route: Route?
        if let object = v["route"], object != .null { route = try Route(wire: object) }
        self.init(kind: kind, revision: UInt64(revision), key: key, route: route)
    }
}

/// Something routerd sent that the follower cannot use; the follower reconnects and lists again.
public struct FollowError: Error, CustomStringConvertible, Sendable {
    /// What was wrong, for the log.
    public var description: String

    init(_ description: String) { self.description = description }
}
