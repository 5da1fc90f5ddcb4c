import DomainRouter
import RouterProtocol

/// The table's values as protocol JSON (docs/protocol.md, "Routes"), for every front end.
package enum Wire {
    package static func timestamp(_ t: Timestamp?) -> JSONValue {
        t.map { .string($0.rfc3339) } ?? .null
    }

    package static func seconds(_ d: Duration) -> JSONValue {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? .number(Int(ms / 1000)) : .number(Double(ms) / 1000)
    }

    /// A route as protocol JSON, written directly (routes are in most replies; building them
    /// as `JSONValue` trees cost a dozen allocations each). `WireTypesTests` checks the shape
    /// against the Codable `WireRoute`.
    package static func route(_ r: Route, for viewer: Viewer) -> JSONValue {
        var w = JSONWriter(capacity: 360)
        w.write(maximumLength: maximumLength(of: r)) { writeRoute(r, for: viewer, to: &$0) }
        return .raw(w.bytes)
    }

    /// The most bytes `writeRoute` writes for `r`: the field names and fixed-size values (at
    /// most about 480 bytes), plus each string's worst case.
    package static func maximumLength(of r: Route) -> Int {
        // Fixed part: field names, kind, tunnel (at most 128), session, times, ttl, revisions.
        var n = 520 + JSONOutput.maximumLength(ofString: r.key) + JSONOutput.maximumLength(ofString: r.owner)
        if let target = r.target { n += JSONOutput.maximumLength(ofString: target.description) }
        for (key, value) in r.labels { n += 2 + JSONOutput.maximumLength(ofString: key) + JSONOutput.maximumLength(ofString: value) }
        // ",\"allow\":[]" and ",\"deny\":[]", then at most 46 bytes a block ("v6/128", quoted, a comma).
        n += 22 + 46 * (r.access.allow.count + r.access.deny.count)
        return n
    }

    /// Writes a route's JSON, as `viewer` may see it (another owner's target, labels and access
    /// rules left out unless it is shared with them), straight into reserved memory. `WireTypesTests` checks the
    /// shape against the Codable `WireRoute`.
    package static func writeRoute(_ v: Route, for viewer: Viewer, to out: inout JSONOutput) {
        let visible = viewer.seesInFull(v)
        out.literal("{\"key\":")
        out.string(v.key)
        out.literal(",\"kind\":\"")
        switch v.kind {
        case .host: out.literal("host")
        case .wildcard: out.literal("wildcard")
        case .tcp: out.literal("tcp")
        }
        out.literal("\",\"tunnel\":\"")
        // Tunnel ids are [A-Za-z0-9._-]: nothing to escape.
        out.write(maximum: TunnelID.maximumLength) { v.tunnel.writeText(to: $0) }
        out.literal("\",\"target\":")
        if visible, let target = v.target { out.string(target.description) } else { out.literal("null") }
        out.literal(",\"labels\":{")
        if visible && !v.labels.isEmpty {
            for (i, (key, value)) in v.labels.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.string(key)
                out.byte(UInt8(ascii: ":"))
                out.string(value)
            }
        }
        out.literal("},\"allow\":[")
        if visible { writeBlocks(v.access.allow, to: &out) }
        out.literal("],\"deny\":[")
        if visible { writeBlocks(v.access.deny, to: &out) }
        out.literal("],\"owner\":")
        out.string(v.owner)
        out.literal(",\"session\":")
        if let session = v.session {
            out.byte(UInt8(ascii: "\""))
            out.number(session)
            out.byte(UInt8(ascii: "\""))
        } else {
            out.literal("null")
        }
        out.literal(",\"created_at\":")
        let created = out.count
        timestamp(v.createdAt, to: &out)
        let createdLength = out.count - created
        out.literal(",\"updated_at\":")
        if v.updatedAt == v.createdAt {
            out.copy(from: created, count: createdLength)
        } else {
            timestamp(v.updatedAt, to: &out)
        }
        out.literal(",\"expires_at\":")
        if let expires = v.expiresAt { timestamp(expires, to: &out) } else { out.literal("null") }
        out.literal(",\"ttl\":")
        if let ttl = v.ttl {
            let ms = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
            if ms % 1000 == 0 && ms >= 0 {
                out.number(UInt64(ms / 1000))
            } else if case .number(let text) = seconds(ttl) {
                var text = text
                text.withUTF8 { out.bytes($0) }
            }
        } else {
            out.literal("null")
        }
        out.literal(",\"create_revision\":")
        out.number(v.createRevision)
        out.literal(",\"mod_revision\":")
        out.number(v.modRevision)
        out.byte(UInt8(ascii: "}"))
    }

    /// Address blocks as JSON strings, comma-separated (ASCII: nothing to escape).
    static func writeBlocks(_ blocks: [CIDR], to out: inout JSONOutput) {
        for (i, block) in blocks.enumerated() {
            if i > 0 { out.byte(UInt8(ascii: ",")) }
            var text = block.description
            out.byte(UInt8(ascii: "\""))
            text.withUTF8 { out.bytes($0) }
            out.byte(UInt8(ascii: "\""))
        }
    }

    /// A timestamp as a quoted RFC 3339 string (plain ASCII: no escaping).
    @inline(__always)
    package static func timestamp(_ t: Timestamp, to out: inout JSONOutput) {
        out.byte(UInt8(ascii: "\""))
        out.write(maximum: Timestamp.maximumRFC3339Length) { t.writeRFC3339(to: $0) }
        out.byte(UInt8(ascii: "\""))
    }

    package static func event(_ e: RouteEvent, for viewer: Viewer) -> JSONValue {
        if e.kind == .sync {
            return .object([("type", .string("sync")), ("revision", .number(e.revision))])
        }
        return .object([
            ("type", .string(e.kind.rawValue)),
            ("revision", .number(e.revision)),
            ("key", .string(e.key)),
            ("route", e.route.map { route($0, for: viewer) } ?? .null),
        ])
    }

    /// A table refusal as the protocol sends it: the table's code under its own name, its
    /// message, and the facts it names as details.
    package static func error(_ e: RouteError) -> ProtocolError {
        var details: [(String, JSONValue)] = []
        if let c = e.conflict {
            details.append(("key", .string(c.key)))
            details.append(("relation", .string(c.relation.rawValue)))
            details.append(("held_key", .string(c.heldKey)))
            if let until = c.heldUntil { details.append(("held_until", timestamp(until))) }
            if let holder = c.holder {
                details.append(("holder", .object([
                    ("owner", .string(holder.owner)),
                    ("tunnel", holder.tunnel.map { .string($0.rawValue) } ?? .null),
                    ("expires_at", timestamp(holder.expiresAt)),
                ])))
            }
        } else if let oldest = e.oldestRevision {
            details.append(("oldest_revision", .number(oldest)))
        } else if e.isReset {
            details.append(("reason", .string("store_reset")))
        } else if let (name, label) = e.reservedLabel {
            details.append(("key", .string(name)))
            details.append(("label", .string(label)))
        } else if let (input, _) = e.invalidName {
            details.append(("name", .string(String(input.prefix(300)))))
        }
        if let q = e.quota {
            details.append(("namespace", .string(q.namespace)))
            if let member = q.member { details.append(("member", .string(member))) }
            details.append(("limit", .string(q.limit)))
            details.append(("quota", .number(Double(q.quota))))
            details.append(("use", q.use.map { .number(Double($0)) } ?? .null))
        }
        return ProtocolError(ErrorCode(rawValue: e.code.rawValue), e.description, details: details.isEmpty ? nil : .object(details))
    }

    /// Why a watch ended when the table was loaded anew from its store.
    package static func storeReset(at revision: UInt64) -> RouteError {
        .reset("the table was loaded anew from its store (the store was flushed or replaced, or this daemon fell behind its log); revisions before \(revision) mean nothing now: list again, then watch")
    }

    /// The store, as the greeting (kind and id) and `stats` (everything) report it.
    package static func store(_ status: StoreStatus, tableRevision: UInt64, full: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [("kind", .string(status.kind))]
        if let id = status.id { members.append(("id", .string(id))) }
        guard full else { return .object(members) }
        if let location = status.location { members.append(("location", .string(location))) }
        members.append(("available", .bool(status.available)))
        if let problem = status.problem { members.append(("problem", .string(problem))) }
        if let revision = status.storeRevision {
            members.append(("revision", .number(revision)))
            members.append(("behind", .number(revision > tableRevision ? revision - tableRevision : 0)))
        }
        if let ms = status.lastContactMilliseconds { members.append(("last_contact_ms", .number(Int(ms)))) }
        if let digest = status.configDigest {
            members.append(("config_digest", .string(digest)))
            members.append(("config_mismatch", .array(status.configMismatch.map { .string($0) })))
        }
        return .object(members)
    }

    /// A tunnel and its routes (`lookup` of a `uuid:` key): its own owner, admins and those it
    /// is shared with see the routes' targets and labels.
    package static func tunnel(_ info: TunnelInfo, for viewer: Viewer) -> JSONValue {
        return .object([
            ("tunnel", .object([
                ("id", .string(info.id.rawValue)), ("owner", .string(info.owner)),
                ("routes", .number(info.routes.count)), ("expires_at", timestamp(info.expiresAt)),
            ])),
            ("routes", .array(info.routes.map { route($0, for: viewer) })),
        ])
    }
}

extension Wire {
    /// The namespaces a caller may see, as `stats` answers them: each one's rules, members,
    /// quotas and what it holds against them.
    package static func namespaces(_ reports: [NamespaceReport]) -> JSONValue {
        func names(_ set: Set<String>) -> JSONValue { .array(set.sorted().map { .string($0) }) }
        func quota(_ q: Namespace.Quota) -> JSONValue {
            var fields: [(String, JSONValue)] = []
            if let routes = q.routes { fields.append(("routes", .number(Double(routes)))) }
            if let ports = q.tcpPorts { fields.append(("tcp_ports", .number(Double(ports)))) }
            if let sessions = q.sessionRoutes { fields.append(("session_routes", .number(Double(sessions)))) }
            if let ttl = q.longestTTL { fields.append(("longest_ttl", .number(Double(ttl.components.seconds)))) }
            return .object(fields)
        }
        return .array(reports.map { report in
            let n = report.namespace
            return .object([
                ("name", .string(n.name)),
                ("kind", .string(n.kind.rawValue)),
                ("domains", .array(n.kind == .user ? ["{user}." + n.domains[0]].map { .string($0) } : n.domains.map { .string($0) })),
                ("tcp_ports", n.tcpPorts.map { .string("\($0.lowerBound)-\($0.upperBound)") } ?? .null),
                ("members", .object([("users", names(n.users)), ("groups", names(n.groups))])),
                ("admins", names(n.admins)),
                ("quota", quota(n.quota)),
                ("member_quota", quota(n.memberQuota)),
                ("use", .object([
                    ("routes", .number(Double(report.routes))),
                    ("tcp_ports", .number(Double(report.tcpPorts))),
                    ("session_routes", .number(Double(report.sessionRoutes))),
                    ("by_owner", .object(report.routesByOwner.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
                ])),
                ("over_quota", .bool(report.isOverQuota)),
            ])
        })
    }
}
