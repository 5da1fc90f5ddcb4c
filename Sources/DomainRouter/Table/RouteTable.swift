#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// What to add: a key (or a random name, or a free port) and the route's attributes.
public struct AddRequest: Sendable {
    /// How the key is chosen.
    public enum Name: Sendable, Hashable {
        /// This exact key (host, wildcard or `tcp:N`).
        case key(RouteKey)
        /// A random label under `domain` (canonical), or under the only base domain.
        case random(domain: String?)
        /// A free port in the configured range.
        case tcpAuto
    }

    public var name: Name
    /// The tunnel; nil lets the table assign a fresh UUID.
    public var tunnel: TunnelID?
    public var target: RouteTarget?
    /// The route lapses this long after the add (and after each touch); nil for no expiry.
    public var ttl: Duration?
    /// Binds the route to a session (connection) id: it goes `grace` after the session ends.
    public var session: UInt64?
    /// Take the key over from another tunnel (of the same owner, or any owner for admins).
    public var replace: Bool
    public var labels: [String: String]
    /// Admins only: the owner to record instead of the admin.
    public var owner: String?

    public init(
        _ name: Name, tunnel: TunnelID? = nil, target: RouteTarget? = nil, ttl: Duration? = nil,
        session: UInt64? = nil, replace: Bool = false, labels: [String: String] = [:], owner: String? = nil
    ) {
        self.name = name
        self.tunnel = tunnel
        self.target = target
        self.ttl = ttl
        self.session = session
        self.replace = replace
        self.labels = labels
        self.owner = owner
    }

    /// Checks labels and TTL; the table calls this before taking its lock.
    func validate() throws(RouteError) {
        if let ttl { try AddRequest.validate(ttl: ttl) }
        if labels.count > 64 { throw .invalidArgument("a route has at most 64 labels, not \(labels.count)") }
        for (key, value) in labels {
            guard (1...63).contains(key.utf8.count), key.utf8.allSatisfy(AddRequest.isLabelKeyByte) else {
                throw .invalidArgument("label key '\(key.prefix(70))' must be 1-63 characters of letters, digits, '.', '_', '/' and '-'")
            }
            guard value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalidArgument("label '\(key)' has a value longer than 256 bytes or with control characters")
            }
        }
        if let owner, owner.isEmpty || owner.utf8.count > 128 {
            throw .invalidArgument("owner must be 1 to 128 characters")
        }
    }

    static func validate(ttl: Duration) throws(RouteError) {
        guard ttl >= .milliseconds(1), ttl <= .seconds(366 * 86_400) else {
            throw .invalidArgument("ttl must be between 1 ms and 366 days")
        }
    }

    static func isLabelKeyByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// What an add did.
public struct AddResult: Hashable, Sendable {
    public var route: Route
    /// True for a new route (`add` event); false for a refresh or replace (`update` event).
    public var created: Bool
    public var revision: UInt64
}

/// Filters and paging for `list`. Empty fields match everything.
public struct RouteQuery: Hashable, Sendable {
    /// Keys starting with this text.
    public var prefix: String?
    public var tunnel: TunnelID?
    /// Ignored for non-admins, who always see their own routes only.
    public var owner: String?
    public var kind: RouteKind?
    /// Routes carrying every one of these labels.
    public var labels: [String: String]
    /// Start after this key (the previous page's `next`).
    public var after: String?
    /// At most this many routes; nil for all.
    public var limit: Int?

    public init(prefix: String? = nil, tunnel: TunnelID? = nil, owner: String? = nil, kind: RouteKind? = nil,
                labels: [String: String] = [:], after: String? = nil, limit: Int? = nil) {
        self.prefix = prefix
        self.tunnel = tunnel
        self.owner = owner
        self.kind = kind
        self.labels = labels
        self.after = after
        self.limit = limit
    }
}

/// One page of `list`, in key order.
public struct RoutePage: Hashable, Sendable {
    public var routes: [Route]
    /// Pass as `after` for the next page; nil when this was the last.
    public var next: String?
    /// The revision the page was read at.
    public var revision: UInt64
}

/// Counts for `stats`.
public struct TableStats: Hashable, Sendable {
    public var hosts: Int
    public var wildcards: Int
    public var tcp: Int
    public var total: Int { hosts + wildcards + tcp }
    public var tunnels: Int
    public var revision: UInt64
    /// The oldest revision the history can still replay.
    public var oldestRevision: UInt64
    public var subscribers: Int
    /// Sessions holding routes (including those in their grace period).
    public var sessions: Int
}

/// The route table: public names and ports mapped to tunnels, safe to share across threads.
///
/// Lookups take a shared lock and run in parallel; changes take it alone, so a reader never
/// sees half of a change. Every change bumps one global revision and appends one event to a
/// bounded history that subscribers can replay. Time comes from the injected `RouteClock`.
public final class RouteTable: Sendable {
    public let configuration: RouteTableConfiguration
    public let clock: any RouteClock
    let state: ReadWriteLocked<TableState>

    /// Creates an empty table; throws when the configuration is unusable (a bad base domain…).
    public init(configuration: RouteTableConfiguration = RouteTableConfiguration(),
                clock: any RouteClock = SystemClock()) throws(RouteError) {
        let config = try configuration.validated()
        self.configuration = config
        self.clock = clock
        state = ReadWriteLocked(TableState(config: config))
    }

    private var now: Int64 { clock.now().millisecondsSinceEpoch }

    // MARK: Keys

    /// Parses and canonicalizes a key as a user writes it: `foo` (a label under the only base
    /// domain), `foo.example.com`, `*.foo.example.com`, `tcp:49000`, `uuid:ID` or `tunnel:ID`.
    public func key(_ text: String) throws(RouteError) -> RouteKey {
        // Which of `tcp:`, `uuid:` and `tunnel:` the text starts with, compared as bytes
        // (String.hasPrefix compares by Unicode rules: slow, and these prefixes are ASCII).
        let prefixLength = HostNames.withBytes(text) { bytes -> Int in
            func starts(_ prefix: StaticString) -> Bool {
                bytes.count >= prefix.utf8CodeUnitCount && memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
            }
            return starts("tcp:") ? 4 : starts("uuid:") ? 5 : starts("tunnel:") ? 7 : 0
        }
        var rest: String { String(Substring(text.utf8.dropFirst(prefixLength))) }
        switch prefixLength {
        case 4:
            guard let port = UInt16(rest), port > 0 else {
                throw .invalidName(text, .invalidTCPKey(String(text.prefix(40))))
            }
            return .tcp(port)
        case 5, 7:
            return .tunnel(try TunnelID(rest))
        default:
            break
        }
        do throws(NameError) {
            // Plain LDH names take the one-pass ASCII path; it refuses xn-- labels, wildcards and
            // a numeric last label, so what it returns needs only the base domain for a bare label.
            let base = configuration.baseDomains.count == 1 ? configuration.baseDomains[0] : nil
            if let fast = Self.fastKeyName(text, underBase: base) {
                let dotted = HostNames.withBytes(fast) { memchr($0.baseAddress!, 0x2E, $0.count) != nil }
                return .host(dotted ? fast : try underBaseDomain(fast))
            }
            var name = try HostNames.canonicalize(text, as: .name, allowWildcard: true, validateIDN: true,
                                                  checkIPLiteral: false)
            if !name.utf8.contains(UInt8(ascii: ".")) { name = try underBaseDomain(name) }
            let lastLabel = name.lastIndex(of: ".").map { name[name.index(after: $0)...] } ?? Substring(name)
            if HostNames.withBytes(String(lastLabel), { HostNames.isNumericLabel($0) }) { throw .ipLiteral(text) }
            return name.hasPrefix("*.") ? .wildcard(String(name.dropFirst(2))) : .host(name)
        } catch {
            throw .invalidName(text, error)
        }
    }

    /// A bare label under the only base domain.
    func underBaseDomain(_ label: String) throws(NameError) -> String {
        guard configuration.baseDomains.count == 1 else {
            throw .ambiguousLabel(label: label, baseDomains: configuration.baseDomains)
        }
        let name = label + "." + configuration.baseDomains[0]
        if name.utf8.count > HostNames.maximumLength { throw .tooLong(length: name.utf8.count) }
        return name
    }

    /// The canonical form of a plain ASCII name via `HostNames.fastCanonical`, or nil to take the
    /// full canonicalizer (IDN, wildcards, anything unusual).
    /// With `base`, a bare label comes back already under it (one String built, not three),
    /// unless that would be too long.
    static func fastKeyName(_ text: String, underBase base: String? = nil) -> String? {
        HostNames.withBytes(text) { bytes -> String? in
            guard bytes.count <= HostNames.maximumLength else { return nil }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * HostNames.maximumLength + 8) { out -> String? in
                let p = out.baseAddress!
                guard var (count, _) = HostNames.fastCanonical(bytes, source: .name, into: p) else { return nil }
                if let base, !UnsafeBufferPointer(start: p, count: count).contains(UInt8(ascii: ".")),
                   count + 1 + base.utf8.count <= HostNames.maximumLength {
                    p[count] = UInt8(ascii: ".")
                    HostNames.withBytes(base) { (p + count + 1).update(from: $0.baseAddress!, count: $0.count) }
                    count += 1 + base.utf8.count
                }
                return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
            }
        }
    }

    // MARK: Changes

    /// Adds a route, refreshes the caller's own (same tunnel), or replaces one (`replace`).
    public func add(_ request: AddRequest, as principal: Principal) throws(RouteError) -> AddResult {
        let request = try prepared(request)
        let now = self.now
        return try state.write { (s: inout TableState) throws(RouteError) -> AddResult in
            try s.add(request, principal: principal, now: now)
        }
    }

    /// Several independent adds under one write lock, for a burst of pipelined requests: each
    /// succeeds or fails on its own, in order, exactly as the same `add` calls one after another
    /// would (other changes cannot come between them). Not all-or-nothing; see `apply`.
    public func add(each requests: [AddRequest], as principal: Principal) -> [Result<AddResult, RouteError>] {
        var results: [Result<AddResult, RouteError>] = []
        results.reserveCapacity(requests.count)
        let now = self.now
        state.write { (s: inout TableState) in
            for request in requests {
                do throws(RouteError) {
                    // Checked here rather than in a first pass: no second array of requests.
                    if case .random(_?) = request.name {
                        results.append(.success(try s.add(try prepared(request), principal: principal, now: now)))
                    } else {
                        try request.validate()
                        results.append(.success(try s.add(request, principal: principal, now: now)))
                    }
                } catch {
                    results.append(.failure(error))
                }
            }
        }
        return results
    }

    /// A request checked and with its random-name domain canonical, ready for the lock.
    private func prepared(_ request: AddRequest) throws(RouteError) -> AddRequest {
        try request.validate()
        var request = request
        if case .random(let domain?) = request.name {
            do {
                request.name = .random(domain: try HostNames.canonicalize(domain, as: .name))
            } catch {
                throw .invalidName(domain, error)
            }
        }
        return request
    }

    /// Deletes one route, or every route of a tunnel (`uuid:ID`); returns what went.
    @discardableResult
    public func delete(_ key: RouteKey, as principal: Principal) throws(RouteError) -> [Route] {
        let now = self.now
        return try state.write { (s: inout TableState) throws(RouteError) -> [Route] in
            try s.delete(key, principal: principal, now: now)
        }
    }

    /// Renews a route's (or a tunnel's routes') expiry by `ttl`, or by each route's own TTL.
    @discardableResult
    public func touch(_ key: RouteKey, ttl: Duration? = nil, as principal: Principal) throws(RouteError) -> [Route] {
        if let ttl { try AddRequest.validate(ttl: ttl) }
        let now = self.now
        return try state.write { (s: inout TableState) throws(RouteError) -> [Route] in
            try s.touch(key, ttl: ttl, principal: principal, now: now)
        }
    }

    // MARK: Lookups

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
            throw .notFound("no route for '\(host.prefix(80))': \(error)")
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
                guard let slot = s.findSlot(key), !s.isExpired(slot, now: now) else { return nil }
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

    public func stats() -> TableStats {
        state.read { $0.stats() }
    }

    /// The current revision: the number of changes made so far.
    public var revision: UInt64 {
        state.read { $0.revision }
    }

    // MARK: History and subscriptions

    /// The events with revision ≥ `revision` (inclusive, like etcd); `compacted` when the
    /// history no longer reaches back that far, `outOfRange` beyond the next revision.
    public func events(from revision: UInt64) throws(RouteError) -> [RouteEvent] {
        try state.read { (s: borrowing TableState) throws(RouteError) -> [RouteEvent] in try s.events(from: revision) }
    }

    /// Subscribes to changes: first the history from `revision` (when given), then a `sync`
    /// event, then live events. The buffer holds `bufferSize` undelivered live events; past
    /// that the subscription ends with `RouteError.overflow`.
    public func subscribe(from revision: UInt64? = nil, filter: EventFilter = EventFilter(),
                          bufferSize: Int? = nil) throws(RouteError) -> RouteSubscription {
        let size = max(1, bufferSize ?? configuration.subscriberBuffer)
        let (id, stream) = try state.write { (s: inout TableState) throws(RouteError) -> (UInt64, AsyncThrowingStream<RouteEvent, any Error>) in
            let replay = try revision.map { (r: UInt64) throws(RouteError) in try s.events(from: r) }?.filter(filter.matches) ?? []
            let (stream, continuation) = AsyncThrowingStream.makeStream(
                of: RouteEvent.self, throwing: (any Error).self,
                bufferingPolicy: .bufferingOldest(size + replay.count + 1))
            let subscriber = Subscriber(filter: filter, sink: .stream(continuation, capacity: size))
            continuation.onTermination = { [weak subscriber] _ in subscriber?.ended.store(true, ordering: .relaxed) }
            for event in replay { continuation.yield(event) }
            continuation.yield(RouteEvent(kind: .sync, revision: s.revision, key: "", route: nil))
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = subscriber
            return (id, stream)
        }
        return RouteSubscription(stream: stream) { [weak self] in self?.unsubscribe(id) }
    }

    /// Subscribes with a callback, for servers that deliver on their own threads: `deliver`
    /// runs under the table's lock, in revision order, for the replayed history, the `sync`
    /// event and then every live change, and must return quickly. Returning false ends the
    /// subscription (a consumer that fell too far behind); `cancel()` on the handle ends it too.
    public func subscribe(from revision: UInt64? = nil, filter: EventFilter = EventFilter(),
                          deliver: @escaping @Sendable (RouteEvent) -> Bool) throws(RouteError) -> SubscriptionHandle {
        let id = try state.write { (s: inout TableState) throws(RouteError) -> UInt64? in
            let replay = try revision.map { (r: UInt64) throws(RouteError) in try s.events(from: r) }?.filter(filter.matches) ?? []
            for event in replay where !deliver(event) { return nil }
            guard deliver(RouteEvent(kind: .sync, revision: s.revision, key: "", route: nil)) else { return nil }
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = Subscriber(filter: filter, sink: .callback(deliver))
            return id
        }
        return SubscriptionHandle { [weak self] in
            if let id { self?.unsubscribe(id) }
        }
    }

    func unsubscribe(_ id: UInt64) {
        let subscriber = state.write { $0.subscribers.removeValue(forKey: id) }
        subscriber?.finish()
    }

    // MARK: Sessions and expiry

    /// The session (connection) ended: its routes go after `grace`, unless it is resumed first.
    public func endSession(_ session: UInt64, grace: Duration) {
        let now = self.now
        state.write { $0.endSession(session, grace: grace.milliseconds, now: now) }
    }

    /// Moves an ended session's routes to a new session before its grace runs out; returns
    /// how many routes it kept (0 when none were left).
    @discardableResult
    public func resumeSession(_ old: UInt64, as new: UInt64) -> Int {
        let now = self.now
        return state.write { $0.resumeSession(old, as: new, now: now) }
    }

    /// Removes every route and session whose deadline has passed, with `expire` events.
    /// Returns how many routes went.
    @discardableResult
    public func sweep() -> Int {
        let now = self.now
        guard let next = state.read({ $0.nextDeadline }), next <= now else { return 0 }
        return state.write { $0.expireDue(now: now) }
    }

    /// Once the table holds no route, starts its storage afresh, so that the memory of its
    /// largest size goes back (the event history stays); returns whether it did. Cheap when
    /// there is nothing to do; the daemon calls it with each expiry sweep.
    @discardableResult
    public func releaseStorageIfEmpty() -> Bool {
        let due = state.read { s in
            s.hostCount + s.wildcardCount + s.tcpCount == 0
                && max(s.slots.count, s.tunnels.count) > TableState.storageReleaseThreshold
        }
        guard due else { return false }
        return state.write { $0.releaseStorageIfEmpty() }
    }

    /// Sweeps every `interval` until the task is cancelled; with the default interval an
    /// expired route is removed well within a second of its deadline.
    public func runExpiry(every interval: Duration = .milliseconds(200)) async {
        while !Task.isCancelled {
            sweep()
            try? await Task.sleep(for: interval)
        }
    }
}

// MARK: - Batches

/// One change in an atomic batch (see `RouteTable.apply(_:as:)`).
public enum BatchOperation: Sendable {
    case add(AddRequest)
    case delete(RouteKey)
    case touch(RouteKey, ttl: Duration?)
}

/// What one operation of a committed batch did.
public enum BatchOutcome: Sendable {
    case added(AddResult)
    case deleted([Route])
    case touched([Route])
}

/// Why an atomic batch changed nothing: the first operation that failed and its error.
public struct BatchFailure: Error, Sendable {
    /// The failing operation's position in the batch, from 0.
    public var index: Int
    public var error: RouteError

    public init(index: Int, error: RouteError) {
        self.index = index
        self.error = error
    }
}

extension RouteTable {
    /// Applies every operation or none: on the first failure the table is left exactly as it was
    /// (no revision spent, no event seen by any watcher). Watchers see a committed batch's events
    /// together, in order, one revision each.
    public func apply(_ ops: [BatchOperation], as principal: Principal) throws(BatchFailure) -> [BatchOutcome] {
        var ops = ops
        for i in ops.indices {
            do throws(RouteError) {
                switch ops[i] {
                case .add(var request):
                    try request.validate()
                    if case .random(let domain?) = request.name {
                        do {
                            request.name = .random(domain: try HostNames.canonicalize(domain, as: .name))
                        } catch {
                            throw .invalidName(domain, error)
                        }
                        ops[i] = .add(request)
                    }
                case .touch(_, let ttl?):
                    try AddRequest.validate(ttl: ttl)
                default:
                    break
                }
            } catch {
                throw BatchFailure(index: i, error: error)
            }
        }
        let now = clock.now().millisecondsSinceEpoch
        return try state.write { (s: inout TableState) throws(BatchFailure) -> [BatchOutcome] in
            try s.applyAtomically(ops, principal: principal, now: now)
        }
    }
}
