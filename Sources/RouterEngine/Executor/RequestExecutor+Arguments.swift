import DomainRouter
import RouterProtocol

/// Typed requests from the protocol's arguments, shared by every front end that speaks the
/// protocol's field names (the socket's JSON lines, the HTTP API's JSON bodies).
extension RequestExecutor {
    /// A key as a person writes it (`foo`, `foo.example.com`, `*.foo…`, `tcp:N`, `uuid:ID`); a
    /// bare label `principal` writes goes under their namespace when they have one.
    package func key(_ text: String, for principal: Principal? = nil) throws(RouteError) -> RouteKey {
        if let principal { return try table.key(text, for: principal) }
        return try table.key(text)
    }

    /// An add request from its arguments, as `principal` (if known) writes them; `session`
    /// binds it when `session: true` is given.
    package func addRequest(_ a: AddArguments, session: UInt64, for principal: Principal? = nil) throws(RouteError) -> AddRequest {
        let name: AddRequest.Name
        if a.random {
            guard a.key == nil else { throw .invalidArgument("give either key or random, not both") }
            name = .random(domain: a.domain)
        } else if let key = a.key {
            guard a.domain == nil else { throw .invalidArgument("domain goes with random: true") }
            name = key == "tcp:auto" ? .tcpAuto : .key(try self.key(key, for: principal))
        } else {
            throw .invalidArgument("add needs a key (or random: true)")
        }
        return AddRequest(
            name,
            tunnel: try a.tunnel.map { (t: String) throws(RouteError) in try TunnelID(t) },
            target: try a.target.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) },
            ttl: try a.ttl.map { (value: Double) throws(RouteError) in try Self.duration(seconds: value, field: "ttl") },
            session: a.session ? session : nil,
            replace: a.replace,
            labels: a.labels,
            access: try AccessRules(allow: a.allow, deny: a.deny),
            owner: a.owner)
    }

    /// A batch operation (`add`, `delete` or `touch`) from its validated request.
    package func batchOperation(_ op: Request, session: UInt64, for principal: Principal? = nil) throws(RouteError) -> BatchOperation {
        switch op.op {
        case "add": return .add(try addRequest(AddArguments(op), session: session, for: principal))
        case "delete": return .delete(try key(op.string("key")!, for: principal))
        default: return .touch(try key(op.string("key")!, for: principal), ttl: try touchTTL(op))
        }
    }

    /// What an `update` changes, from its arguments (`target: null` takes the target away).
    package func routeChange(_ request: Request) throws(RouteError) -> RouteChange {
        var change = RouteChange()
        if let target = request.arguments["target"] {
            change.target = .some(try target.stringValue.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) })
        }
        if case .object(let members)? = request.arguments["labels"] {
            var labels: [String: String] = [:]
            for (name, value) in members { labels[name] = value.stringValue ?? "" }
            change.labels = labels
        }
        for name in ["allow", "deny"] {
            guard case .array(let blocks)? = request.arguments[name] else { continue }
            let parsed = try blocks.map { (block: JSONValue) throws(RouteError) in try CIDR(block.stringValue ?? "") }
            if name == "allow" { change.allow = parsed } else { change.deny = parsed }
        }
        return change
    }

    /// A touch's `ttl`, when given.
    package func touchTTL(_ request: Request) throws(RouteError) -> Duration? {
        try request.number("ttl").map { (value: Double) throws(RouteError) in try Self.duration(seconds: value, field: "ttl") }
    }

    /// A list query from the `list` arguments; a non-admin who names another owner, or a
    /// namespace they do not belong to, is refused (`forbidden`), as for `history` and `holds`.
    package func listQuery(_ request: Request, as caller: Caller) throws(RouteError) -> RouteQuery {
        var query = RouteQuery()
        query.prefix = request.string("prefix")
        query.tunnel = try request.string("tunnel").map { (t: String) throws(RouteError) in try TunnelID(t) }
        query.owner = request.string("owner")
        if let owner = query.owner, !caller.principal.isAdmin, owner != caller.principal.name {
            throw .forbidden("only admins list another owner's routes (\(owner)); without owner you see your own")
        }
        if let kind = request.string("kind") {
            guard let parsed = RouteKind(rawValue: kind) else {
                throw .invalidArgument("kind must be host, wildcard or tcp, not '\(kind.clipped(20))'")
            }
            query.kind = parsed
        }
        if let label = request.string("label") {
            let parts = label.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw .invalidArgument("label filter must look like key=value") }
            query.labels = [String(parts[0]): String(parts[1])]
        }
        if let namespace = request.string("namespace") {
            // One that is not in force, or (for a non-admin) not theirs, is refused, not empty.
            _ = try table.area(ofNamespace: namespace, for: caller.principal)
            query.namespace = namespace
        }
        query.after = request.string("after")
        if let limit = request.integer("limit") {
            guard limit >= 1 else { throw .invalidArgument("limit must be at least 1") }
            query.limit = Int(min(limit, Int64(Int.max)))
        }
        return query
    }

    /// A watch's filter from the `watch` arguments (`prefix`, `tunnel`, `namespace`), narrowed
    /// to what the caller may see: a non-admin gets their own routes' changes and those in the
    /// namespaces shared with them (their teams', and those they administer).
    package func watchFilter(_ request: Request, as caller: Caller) throws(RouteError) -> EventFilter {
        var filter = EventFilter(prefix: request.string("prefix"))
        filter.tunnel = try request.string("tunnel").map { (t: String) throws(RouteError) in try TunnelID(t) }
        if let namespace = request.string("namespace") {
            filter.area = try table.area(ofNamespace: namespace, for: caller.principal)
        }
        if !caller.principal.isAdmin {
            filter.owner = caller.principal.name
            filter.shared = table.sharedArea(for: caller.principal)
        }
        return filter
    }

    /// Seconds as the protocol gives them: above 0, at most 366 days, rounded up to the millisecond.
    package static func duration(seconds value: Double, field: String) throws(RouteError) -> Duration {
        guard value.isFinite, value > 0, value <= 366 * 86_400 else {
            throw .invalidArgument("\(field) must be a number of seconds above 0 and at most 366 days")
        }
        return .milliseconds(Int64((value * 1000).rounded(.up)))
    }

    /// The history question a `history` request asks (`history(_:as:)` narrows it to what the
    /// caller may see).
    package func historyQuery(_ request: Request) throws(RouteError) -> HistoryQuery {
        var query = HistoryQuery(key: nil, owner: request.string("owner"), tunnel: request.string("tunnel"))
        if let text = request.string("key") {
            let key = try self.key(text)
            guard key.kind != nil else {
                throw RouteError.invalidArgument("history takes a route key; for a tunnel's changes give tunnel (\(text.dropFirst(5)))")
            }
            query.key = key.description
        }
        if let since = request.string("since") {
            // A time, or how long back from now (`90m`, `2d`), by this daemon's clock.
            if let ms = WireTime.milliseconds(rfc3339: since) {
                query.since = Timestamp(millisecondsSinceEpoch: ms)
            } else if let back = DurationText.parse(since), back > .zero {
                query.since = Timestamp(millisecondsSinceEpoch: table.clock.now().millisecondsSinceEpoch - back.milliseconds)
            } else {
                throw RouteError.invalidArgument("since is an RFC 3339 time such as 2026-12-01T10:00:00Z or a duration back from now such as 1h, not '\(since.clipped(40))'")
            }
        }
        if let before = request.integer("before") {
            guard before > 0 else { throw RouteError.invalidArgument("before must be a revision above 0") }
            query.before = UInt64(before)
        }
        if let limit = request.integer("limit") {
            guard (1...1000).contains(limit) else { throw RouteError.outOfRange("limit must be 1 to 1000, not \(limit)") }
            query.limit = Int(limit)
        }
        return query
    }
}
