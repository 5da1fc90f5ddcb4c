import DomainRouter
import Logging
import RouterProtocol
import Synchronization

/// The operations of the protocol, written once and knowing nothing of any transport: the
/// socket handler (and every later front end) turns its lines or requests into typed requests,
/// calls these, and turns results and `RouteError`s back into bytes. Changes go through the
/// store (`RouteStore`), which may complete them later; reads go to the store's in-memory table.
/// The audit trail is written here, once: a line per change and per refusal of an operation.
package final class RequestExecutor: Sendable {
    package let store: any RouteStore
    /// The id of the revision sequence: revisions of another instance mean nothing here. The
    /// store's id when it has one (it changes when a shared store is flushed), else the
    /// daemon's own, drawn at start.
    package var instance: String { store.status.id ?? ownInstance }
    private let ownInstance: String
    /// What the operations count and time.
    package let metrics: RouterMetrics
    /// routerd's DNS, when it serves one (`serveDNS`): what the `dns` operation asks.
    let dnsExplainer = Mutex<(any DNSExplaining)?>(nil)

    package init(store: any RouteStore, instance: String, metrics: RouterMetrics = RouterMetrics()) {
        self.store = store
        self.ownInstance = instance
        self.metrics = metrics
    }

    /// The in-memory table every read goes to.
    package var table: RouteTable { store.table }

    // MARK: Changes

    /// Adds routes in order, each on its own; completes with one result each (on any thread).
    package func add(_ requests: [AddRequest], as caller: Caller,
                     completion: @escaping @Sendable ([Result<AddResult, RouteError>]) -> Void) {
        let metrics = self.metrics
        store.add(requests, as: caller.principal, peer: caller.peer) { results in
            var added = 0
            for (index, result) in results.enumerated() {
                switch result {
                case .success(let done):
                    Self.logAdd(done, caller)
                    added += 1
                case .failure(let error):
                    Self.logRefusal(code: error.code.rawValue, message: error.description, op: "add", caller)
                    metrics.count(.add, code: error.code.rawValue, transport: caller.transport)
                    self.countInNamespace(error, requests[index].name.key)
                }
            }
            metrics.count(.add, code: "ok", transport: caller.transport, times: added)
            completion(results)
        }
    }

    /// Deletes one route, or every route of a tunnel; completes with what went.
    package func delete(_ key: RouteKey, as caller: Caller,
                        completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        let metrics = self.metrics
        store.delete(key, as: caller.principal, peer: caller.peer) { result in
            Self.log(result, op: "delete", caller) { Self.logDelete($0, caller) }
            metrics.count(.delete, result, caller)
            if case .failure(let error) = result { self.countInNamespace(error, key) }
            completion(result)
        }
    }

    /// Changes a route's target, labels or access rules in place; completes with the route.
    package func update(_ key: RouteKey, _ change: RouteChange, as caller: Caller,
                        completion: @escaping @Sendable (Result<Route, RouteError>) -> Void) {
        let metrics = self.metrics
        store.update(key, change, as: caller.principal, peer: caller.peer) { result in
            Self.log(result, op: "update", caller) { route in
                guard caller.auditsChanges else { return }
                caller.logger.notice("update", metadata: ["key": "\(route.key)", "tunnel": "\(route.tunnel)", "owner": "\(route.owner)"])
            }
            metrics.count(.update, result, caller)
            if case .failure(let error) = result { self.countInNamespace(error, key) }
            completion(result)
        }
    }

    /// Renews a route's (or a tunnel's routes') expiry; completes with the routes renewed.
    package func touch(_ key: RouteKey, ttl: Duration?, as caller: Caller,
                       completion: @escaping @Sendable (Result<[Route], RouteError>) -> Void) {
        let metrics = self.metrics
        store.touch(key, ttl: ttl, as: caller.principal, peer: caller.peer) { result in
            Self.log(result, op: "touch", caller) { _ in }
            metrics.count(.touch, result, caller)
            if case .failure(let error) = result { self.countInNamespace(error, key) }
            completion(result)
        }
    }

    // MARK: Reads

    /// What a lookup asks for: a key as a person writes it, or a raw Host or SNI value.
    package enum LookupQuery: Sendable {
        case key(String)
        case host(String)
        case sni(String)
    }

    /// What a lookup found: the route a name goes to, or a tunnel and its routes.
    package enum LookupAnswer: Sendable {
        case route(LookupResult)
        case tunnel(TunnelInfo)
    }

    /// Answers a lookup, counted and timed in the metrics.
    package func lookup(_ query: LookupQuery, as caller: Caller) throws(RouteError) -> LookupAnswer {
        let started = ContinuousClock.now
        defer { metrics.lookupTook(ContinuousClock.now - started) }
        do {
            let answer = try resolve(query, as: caller)
            metrics.count(.lookup, code: "ok", transport: caller.transport)
            return answer
        } catch {
            metrics.count(.lookup, code: error.code.rawValue, transport: caller.transport)
            throw error
        }
    }

    /// Answers a lookup counted into `tally` (flushed by the caller) and timed one in
    /// `LookupTally.sampling`: the socket's hot path.
    package func lookup(_ query: LookupQuery, as caller: Caller, tally: inout RouterMetrics.LookupTally) throws(RouteError) -> LookupAnswer {
        try tallied(&tally) { () throws(RouteError) in try resolve(query, as: caller) }
    }

    /// The route a raw Host header value (`sni`: an SNI name) goes to, counted into `tally`:
    /// the gateway's question on the socket's hot path, without the tunnel case's wrapping.
    package func route(forHost value: String, sni: Bool, as caller: Caller, tally: inout RouterMetrics.LookupTally) throws(RouteError) -> LookupResult {
        try tallied(&tally) { () throws(RouteError) in
            do throws(RouteError) {
                if !caller.principal.isAdmin { try table.checkVisible(host: value, source: sni ? .sni : .hostHeader, to: caller.principal) }
                return try table.resolve(host: value, source: sni ? .sni : .hostHeader)
            } catch {
                Self.logRefusal(code: error.code.rawValue, message: error.description, op: "lookup", caller)
                throw error
            }
        }
    }

    /// Runs one lookup, counting its outcome into `tally` and timing one in `LookupTally.sampling`.
    @inline(__always)
    private func tallied<Result>(_ tally: inout RouterMetrics.LookupTally,
                                 _ body: () throws(RouteError) -> Result) throws(RouteError) -> Result {
        tally.seen &+= 1
        tally.pending &+= 1
        let started = tally.seen % RouterMetrics.LookupTally.sampling == 0 ? ContinuousClock.now : nil
        defer { if let started { metrics.lookupTook(ContinuousClock.now - started) } }
        do {
            let result = try body()
            tally.byCode[0] &+= 1
            return result
        } catch {
            tally.byCode[metrics.index(of: error.code.rawValue)] &+= 1
            throw error
        }
    }

    private func resolve(_ query: LookupQuery, as caller: Caller) throws(RouteError) -> LookupAnswer {
        do throws(RouteError) {
            switch query {
            case .host(let value):
                try table.checkVisible(host: value, source: .hostHeader, to: caller.principal)
                return .route(try table.resolve(host: value, source: .hostHeader))
            case .sni(let value):
                try table.checkVisible(host: value, source: .sni, to: caller.principal)
                return .route(try table.resolve(host: value, source: .sni))
            case .key(let text):
                let key = try table.key(text)
                if case .tunnel(let tunnel) = key {
                    var info = try table.tunnel(tunnel)
                    // Its routes in namespace parts the caller may not look at are left out.
                    if !caller.principal.isAdmin, info.owner != caller.principal.name {
                        info.routes.removeAll { route in
                            guard let key = try? table.key(route.key) else { return false }
                            return (try? table.checkVisible(key, to: caller.principal)) == nil
                        }
                    }
                    return .tunnel(info)
                }
                do throws(RouteError) {
                    try table.checkVisible(key, to: caller.principal)
                } catch {
                    countInNamespace(error, key)
                    throw error
                }
                do throws(RouteError) {
                    return .route(try table.lookup(key: key))
                } catch {
                    guard error.code == .notFound else { throw error }
                    // Not a route, but perhaps a name kept for its last owner: say so.
                    guard let held = store.heldName(key.description) else { throw error }
                    let visible = caller.principal.isAdmin || caller.principal.name == held.owner
                    throw RouteError.notFound("no route for \(key); the name is held for its last owner\(visible ? " (\(held.owner))" : "") until \(held.until) (routerd --hold-released)")
                }
            }
        } catch {
            Self.logRefusal(code: error.code.rawValue, message: error.description, op: "lookup", caller)
            throw error
        }
    }

    /// What `caller` sees in full beyond their own routes: the namespaces shared with them
    /// (nil: an admin, who sees everything in full, or nothing shared). Front ends pass it to
    /// `Wire` with what they answer.
    package func sharedArea(for caller: Caller) -> NamespaceArea? {
        caller.principal.isAdmin ? nil : table.sharedArea(for: caller.principal)
    }

    /// The names held for their last owners now (`routerd --hold-released`), as the caller may
    /// see them: a non-admin, their own.
    package func heldNames(prefix: String?, owner: String?, as caller: Caller) throws(RouteError) -> [HeldName] {
        var owner = owner
        if !caller.principal.isAdmin {
            if let owner, owner != caller.principal.name {
                throw RouteError.forbidden("only admins see the names held for another owner (\(owner))")
            }
            owner = caller.principal.name
        }
        return try store.heldNames(prefix: prefix, owner: owner)
    }

    /// One page of routes in key order, as the caller may see them.
    package func list(_ query: RouteQuery, as caller: Caller) -> RoutePage {
        table.list(query, as: caller.principal)
    }

    /// Subscribes to changes from `revision` (inclusive; nil: from now) that pass `filter`
    /// (`watchFilter(_:as:)` narrows it to what the caller may see).
    package func watch(from revision: UInt64?, filter: EventFilter, as caller: Caller,
                       deliver: @escaping @Sendable (RouteEvent) -> Bool) throws(RouteError) -> SubscriptionHandle {
        precondition(caller.principal.isAdmin || filter.owner == caller.principal.name,
                     "a non-admin's watch filter is narrowed by watchFilter(_:as:)")
        return try table.subscribe(from: revision, filter: filter, deliver: deliver)
    }

    package func stats() -> TableStats { table.stats() }

    /// A page of the change history, as the caller may see it: a non-admin sees the changes to
    /// their own routes and to keys in the namespaces shared with them (their teams', those
    /// they administer).
    package func history(_ query: HistoryQuery, as caller: Caller,
                         completion: @escaping @Sendable (Result<HistoryPage, RouteError>) -> Void) {
        var query = query
        if !caller.principal.isAdmin {
            if let owner = query.owner, owner != caller.principal.name {
                let error = RouteError.forbidden("only admins see the history of another owner's routes (\(owner))")
                Self.logRefusal(code: error.code.rawValue, message: error.description, op: "history", caller)
                return completion(.failure(error))
            }
            query.owner = caller.principal.name
            query.shared = table.sharedArea(for: caller.principal)
        }
        store.history(query) { result in
            if case .failure(let error) = result {
                Self.logRefusal(code: error.code.rawValue, message: error.description, op: "history", caller)
            }
            completion(result)
        }
    }

    // MARK: Sessions

    /// A connection closed: its session routes go after `grace` unless it is resumed.
    package func endSession(_ session: UInt64, grace: Duration) {
        store.endSession(session, grace: grace)
    }

    /// Hands a closed session's routes to the caller's session; completes with how many moved.
    package func resumeSession(_ old: UInt64, as caller: Caller,
                               completion: @escaping @Sendable (Result<Int, RouteError>) -> Void) {
        store.resumeSession(old, as: caller.session) { result in
            if case .success(let moved) = result {
                caller.logger.notice("resumed session", metadata: ["routes": "\(moved)", "from": "\(old)"])
            }
            completion(result)
        }
    }

    /// Resumes the session a shared store's token names (from any daemon of the store).
    package func resumeSession(token: String, uid: UInt32, as caller: Caller,
                               completion: @escaping @Sendable (Result<Int, RouteError>) -> Void) {
        store.claimSession(token: token, uid: uid) { [self] claimed in
            switch claimed {
            case .success(let old?):
                resumeSession(old, as: caller, completion: completion)
            case .success(nil):
                completion(.failure(.notFound("resume token unknown, still in use, or past its grace period; its routes are gone")))
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    // MARK: The audit trail

    /// Counts a refusal in the namespace of `key` (or the namespace whose quota it names): how
    /// `router_namespace_refusals_total` sees refused writes and lookups refused for a namespace.
    func countInNamespace(_ error: RouteError, _ key: RouteKey?) {
        guard let namespace = error.quota?.namespace ?? key.flatMap({ table.namespace(of: $0) }) else { return }
        metrics.refused(error, in: namespace)
    }

    /// Logs a refusal that a front end made itself (a malformed line, an unknown op), in the
    /// same words as the executor's own.
    package func refused(code: String, message: String, op: String?, as caller: Caller) {
        Self.logRefusal(code: code, message: message, op: op, caller)
        if let op = op.flatMap(Operation.init(rawValue:)) { metrics.count(op, code: code, transport: caller.transport) }
    }

    static func logRefusal(code: String, message: String, op: String?, _ caller: Caller) {
        caller.logger.info("refused", metadata: ["op": "\(op ?? "?")", "code": "\(code)", "reason": "\(message)"])
    }

    static func log<T>(_ result: Result<T, RouteError>, op: String, _ caller: Caller, changed: (T) -> Void) {
        switch result {
        case .success(let value): changed(value)
        case .failure(let error): logRefusal(code: error.code.rawValue, message: error.description, op: op, caller)
        }
    }

    static func logAdd(_ result: AddResult, _ caller: Caller) {
        guard caller.auditsChanges else { return }
        caller.logger.notice("\(result.created ? "add" : "update")", metadata: [
            "key": "\(result.route.key)", "tunnel": "\(result.route.tunnel)", "owner": "\(result.route.owner)",
        ])
    }

    static func logDelete(_ removed: [Route], _ caller: Caller) {
        guard caller.auditsChanges else { return }
        for route in removed {
            caller.logger.notice("delete", metadata: ["key": "\(route.key)", "tunnel": "\(route.tunnel)", "owner": "\(route.owner)"])
        }
    }
}

extension AddRequest.Name {
    /// The key asked for; nil for a name drawn by the table (random, `tcp:auto`).
    var key: RouteKey? {
        if case .key(let key) = self { return key }
        return nil
    }
}

extension BatchOperation {
    /// The key the operation acts on; nil for an add whose name the table draws.
    var key: RouteKey? {
        switch self {
        case .add(let request): return request.name.key
        case .delete(let key), .touch(let key, _): return key
        }
    }
}
