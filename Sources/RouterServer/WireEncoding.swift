import DomainRouter
import RouterProtocol

/// The table's values as protocol JSON (docs/protocol.md, "Routes").
enum Wire {
    static func timestamp(_ t: Timestamp?) -> JSONValue {
        t.map { .string($0.rfc3339) } ?? .null
    }

    static func seconds(_ d: Duration) -> JSONValue {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? .number(Int(ms / 1000)) : .number(Double(ms) / 1000)
    }

    /// A route as protocol JSON, written directly (routes are in most replies; building them
    /// as `JSONValue` trees cost a dozen allocations each). `WireTypesTests` checks the shape
    /// against the Codable `WireRoute`.
    static func route(_ r: Route, for principal: Principal) -> JSONValue {
        var w = JSONWriter(capacity: 360)
        writeRoute(r, for: principal, into: &w)
        return .raw(w.bytes)
    }

    /// Writes a route's JSON into `w` (no intermediate buffer).
    static func writeRoute(_ r: Route, for principal: Principal, into w: inout JSONWriter) {
        let v = r.redacted(for: principal)
        w.append("{\"key\":")
        w.write(string: v.key)
        w.append(",\"kind\":\"")
        w.append(v.kind.rawValue)
        w.append("\",\"tunnel\":")
        w.write(string: v.tunnel.rawValue)
        w.append(",\"target\":")
        if let target = v.target { w.write(string: target.description) } else { w.append("null") }
        w.append(",\"labels\":{")
        for (i, (key, value)) in v.labels.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { w.append(",") }
            w.write(string: key)
            w.append(":")
            w.write(string: value)
        }
        w.append("},\"owner\":")
        w.write(string: v.owner)
        w.append(",\"session\":")
        if let session = v.session { w.write(string: String(session)) } else { w.append("null") }
        // Times are plain ASCII: no escaping needed; created and updated are often the same.
        let created = v.createdAt.rfc3339
        w.append(",\"created_at\":\"")
        w.append(created)
        w.append("\",\"updated_at\":\"")
        w.append(v.updatedAt == v.createdAt ? created : v.updatedAt.rfc3339)
        w.append("\",\"expires_at\":")
        if let expires = v.expiresAt {
            w.append("\"")
            w.append(expires.rfc3339)
            w.append("\"")
        } else {
            w.append("null")
        }
        w.append(",\"ttl\":")
        w.write(v.ttl.map(seconds) ?? .null)
        w.append(",\"create_revision\":")
        w.append(v.createRevision)
        w.append(",\"mod_revision\":")
        w.append(v.modRevision)
        w.append("}")
    }

    static func event(_ e: RouteEvent, for principal: Principal) -> JSONValue {
        if e.kind == .sync {
            return .object([("type", .string("sync")), ("revision", .number(e.revision))])
        }
        return .object([
            ("type", .string(e.kind.rawValue)),
            ("revision", .number(e.revision)),
            ("key", .string(e.key)),
            ("route", e.route.map { route($0, for: principal) } ?? .null),
        ])
    }

    static func error(_ e: RouteError) -> ProtocolError {
        let code: ErrorCode
        switch e.code {
        case .invalidName: code = .invalidName
        case .badRequest: code = .badRequest
        case .notFound: code = .notFound
        case .conflict: code = .conflict
        case .reserved: code = .reserved
        case .forbidden: code = .forbidden
        case .outOfRange: code = .outOfRange
        case .compacted: code = .compacted
        case .slowConsumer: code = .slowConsumer
        }
        var details: [(String, JSONValue)] = []
        switch e {
        case .conflict(let c):
            details.append(("key", .string(c.key)))
            details.append(("relation", .string(c.relation.rawValue)))
            details.append(("held_key", .string(c.heldKey)))
            if let holder = c.holder {
                details.append(("holder", .object([
                    ("owner", .string(holder.owner)),
                    ("tunnel", holder.tunnel.map { .string($0.rawValue) } ?? .null),
                    ("expires_at", timestamp(holder.expiresAt)),
                ])))
            }
        case .compacted(let oldest):
            details.append(("oldest_revision", .number(oldest)))
        case .reserved(let name, let label):
            details.append(("key", .string(name)))
            details.append(("label", .string(label)))
        case .invalidName(let input, _):
            details.append(("name", .string(String(input.prefix(300)))))
        default:
            break
        }
        return ProtocolError(code, e.description, details: details.isEmpty ? nil : .object(details))
    }
}
