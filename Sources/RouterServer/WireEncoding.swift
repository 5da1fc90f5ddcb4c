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

    static func route(_ r: Route, for principal: Principal) -> JSONValue {
        let visible = r.redacted(for: principal)
        return .object([
            ("key", .string(visible.key)),
            ("kind", .string(visible.kind.rawValue)),
            ("tunnel", .string(visible.tunnel.rawValue)),
            ("target", visible.target.map { .string($0.description) } ?? .null),
            ("labels", .object(visible.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("owner", .string(visible.owner)),
            ("session", visible.session.map { .string(String($0)) } ?? .null),
            ("created_at", timestamp(visible.createdAt)),
            ("updated_at", timestamp(visible.updatedAt)),
            ("expires_at", timestamp(visible.expiresAt)),
            ("ttl", visible.ttl.map(seconds) ?? .null),
            ("create_revision", .number(visible.createRevision)),
            ("mod_revision", .number(visible.modRevision)),
        ])
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
