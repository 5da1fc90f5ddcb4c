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
        let v = r.redacted(for: principal)
        var w = JSONWriter(capacity: 360)
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
        w.append(",\"created_at\":")
        w.write(timestamp(v.createdAt))
        w.append(",\"updated_at\":")
        w.write(timestamp(v.updatedAt))
        w.append(",\"expires_at\":")
        w.write(timestamp(v.expiresAt))
        w.append(",\"ttl\":")
        w.write(v.ttl.map(seconds) ?? .null)
        w.append(",\"create_revision\":")
        w.append(String(v.createRevision))
        w.append(",\"mod_revision\":")
        w.append(String(v.modRevision))
        w.append("}")
        return .raw(w.bytes)
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
