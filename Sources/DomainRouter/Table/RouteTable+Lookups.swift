extension RouteTable {
    /// The route for a raw Host header value or SNI name: exact match first, then the most
    /// specific wildcard. Nil for a miss, an expired route, and anything that is not a
    /// routable name (an IP literal, a malformed header): the gateway's hot path.
    public func lookup(host: String, source: NameSource = .hostHeader) -> LookupResult? {
        var input = host
        return input.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HostNames.maximumLength + 8) { buffer in
                if let (count, changed) = HostNames.fastCanonical(bytes, source: source, into: buffer.baseAddress!) {
                    return lookup(canonical: UnsafeBufferPointer(start: buffer.baseAddress!, count: count),
                                  name: changed ? nil : host)
                }
                // Unicode, odd forms and malformed input: the full canonicalizer decides.
                guard var name = try? HostNames.canonicalize(host, as: source, allowWildcard: false,
                                                             validateIDN: false) else { return nil }
                return name.withUTF8 { lookup(canonical: $0, name: nil) }
            }
        }
    }

    @inline(__always)
    private func lookup(canonical bytes: UnsafeBufferPointer<UInt8>, name: String?) -> LookupResult? {
        let clock = self.clock
        return state.read { state in
            state.lookupHost(bytes, hash: state.hasher(bytes), name: name) { clock.now().millisecondsSinceEpoch }
        }
    }

    /// Like `lookup(host:)`, but a miss is an error that says why.
    public func resolve(host: String, source: NameSource = .hostHeader) throws(RouteError) -> LookupResult {
        if let result = lookup(host: host, source: source) { return result }
        // A miss: canonicalize once more only to say why.
        let name: String
        do {
            name = try HostNames.canonicalize(host, as: source, allowWildcard: false, validateIDN: false)
        } catch {
            throw .notFound("no route for '\(host.clipped(80))': \(error)")
        }
        throw .notFound("no route for \(name)")
    }

    /// The route registered under `key`: for a host name, the exact route or the wildcard that
    /// covers it; for a wildcard or `tcp:` key, that route. Use `tunnel(_:)` for `uuid:` keys.
    public func lookup(key: RouteKey) throws(RouteError) -> LookupResult {
        switch key {
        case .host(let name):
            guard let result = lookup(host: name, source: .name) else { throw .notFound("no route for \(name)") }
            return result
        case .wildcard, .tcp:
            let now = self.now
            let found: LookupResult? = state.read { s in
                guard let slot = s.findCommitted(key), !s.isExpired(slot, now: now) else { return nil }
                return LookupResult(route: s.route(slot), match: key.kind == .wildcard ? .wildcard : .exact,
                                    via: key.description)
            }
            guard let found else { throw .notFound("no route for \(key)") }
            return found
        case .tunnel:
            throw .invalidArgument("\(key) names a tunnel; look it up with tunnel(_:)")
        }
    }

    /// A tunnel and its routes.
    public func tunnel(_ id: TunnelID) throws(RouteError) -> TunnelInfo {
        let now = self.now
        guard let info = state.read({ $0.tunnelInfo(id, now: now) }) else { throw .notFound("no tunnel \(id)") }
        return info
    }

    /// One page of routes in key order. Non-admins see only their own routes.
    public func list(_ query: RouteQuery = RouteQuery(), as principal: Principal) -> RoutePage {
        let now = self.now
        return state.read { $0.list(query, principal: principal, now: now) }
    }

    /// Counts of routes, tunnels, sessions and subscribers, and the revisions.
    public func stats() -> TableStats {
        state.read { $0.stats() }
    }

    /// The current revision: the number of changes made so far.
    public var revision: UInt64 {
        state.read { $0.revision }
    }

    /// Whether any route lies strictly below the canonical name `name` (a wildcard `*.N` lies
    /// below `N`), live or lapsed but not yet swept: how a DNS server tells an empty
    /// non-terminal (NODATA) from a name that does not exist (NXDOMAIN).
    public func hasRoutes(below name: String) -> Bool {
        state.read { $0.hasRoutes(below: name) }
    }

    /// Whether a live route is registered under exactly `key` (a host key matches its own
    /// route only, not a wildcard's).
    public func contains(_ key: RouteKey) -> Bool {
        let now = self.now
        return state.read { s in s.findCommitted(key).map { !s.isExpired($0, now: now) } ?? false }
    }

    /// The keys of every host and wildcard route, in key order: a full scan, for what must see
    /// the whole table (a DNS zone's content).
    public func allHostKeys() -> [String] {
        var keys: [String] = []
        var query = RouteQuery()
        query.limit = 10_000
        while true {
            let page = list(query, as: .admin("routerd"))
            for route in page.routes where route.kind != .tcp { keys.append(route.key) }
            guard let next = page.next else { return keys }
            query.after = next
        }
    }
}
