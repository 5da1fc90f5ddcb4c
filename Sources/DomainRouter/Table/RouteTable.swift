#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The route table: public names and ports mapped to tunnels, safe to share across threads.
///
/// Lookups take a shared lock and run in parallel; changes take it alone, so a reader never
/// sees half of a change. Every change bumps one global revision and appends one event to a
/// bounded history that subscribers can replay. Time comes from the injected `RouteClock`.
public final class RouteTable: Sendable {
    /// The table's rules, as validated.
    public let configuration: RouteTableConfiguration
    /// Where the table's time comes from.
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

    var now: Int64 { clock.now().millisecondsSinceEpoch }

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
                throw .invalidName(text, .invalidTCPKey(text.clipped(40)))
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
        let now = self.now
        return state.write { $0.add(each: requests, principal: principal, now: now, table: self) }
    }

    /// A request checked and with its random-name domain canonical, ready for the lock.
    func prepared(_ request: AddRequest) throws(RouteError) -> AddRequest {
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

    /// Changes a route's target, labels or access rules in place (see `RouteChange`): one
    /// `update` event, the same tunnel and expiry. Throws `notFound`, `forbidden` (another
    /// owner's route, or a target outside the ranges users may set) or `badRequest`.
    @discardableResult
    public func update(_ key: RouteKey, _ change: RouteChange, as principal: Principal) throws(RouteError) -> Route {
        try change.validate()
        let now = self.now
        return try state.write { (s: inout TableState) throws(RouteError) -> Route in
            try s.update(key, change, principal: principal, now: now)
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
}
