import Testing
@testable import DomainRouter

let alice = Principal.user("alice")
let bob = Principal.user("bob")
let root = Principal.admin("root")

func makeTable(
    domains: [String] = ["example.com"],
    clock: ManualClock = ManualClock(),
    configure: (inout RouteTableConfiguration) -> Void = { _ in }
) throws -> RouteTable {
    var config = RouteTableConfiguration(baseDomains: domains)
    configure(&config)
    return try RouteTable(configuration: config, clock: clock)
}

extension RouteTable {
    /// Adds `key` for `principal` on `tunnel`, the way a client would spell it.
    @discardableResult
    func add(_ key: String, tunnel: String? = nil, as principal: Principal, ttl: Duration? = nil,
             session: UInt64? = nil, replace: Bool = false, target: String? = nil,
             labels: [String: String] = [:], owner: String? = nil) throws(RouteError) -> AddResult {
        let name: AddRequest.Name = key == "tcp:auto" ? .tcpAuto : .key(try self.key(key))
        return try add(
            AddRequest(name, tunnel: try tunnel.map { (t: String) throws(RouteError) in try TunnelID(t) },
                       target: try target.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) },
                       ttl: ttl, session: session, replace: replace, labels: labels, owner: owner),
            as: principal)
    }

    func keys(as principal: Principal = root) -> [String] {
        list(as: principal).routes.map(\.key)
    }
}

/// The error thrown by `body`, or nil.
func routeError(_ body: () throws -> Void) -> RouteError? {
    do {
        try body()
        return nil
    } catch let error as RouteError {
        return error
    } catch {
        Issue.record("expected a RouteError, got \(error)")
        return nil
    }
}

