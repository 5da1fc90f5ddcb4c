import DomainRouter
import NIOCore
import RouterEngine
import RouterProtocol

/// The requests other than `add`, `list` and `watch`: each turned into a typed request for the
/// executor, its result into a reply line.
extension ConnectionHandler {
    func greeting(resumed: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("server", .string("routerd")),
            ("version", .string(RouterServer.version)),
            ("protocol", .number(protocolVersion)),
            ("instance", .string(executor.instance)),
            ("revision", .number(table.revision)),
            ("principal", .object([("name", .string(principal.name)), ("admin", .bool(principal.isAdmin))])),
            ("session", .object([("id", .string(String(id))), ("resume_token", .string(token))])),
            ("max_line", .number(server.configuration.maximumLineLength)),
            ("store", Wire.store(executor.store.status, tableRevision: 0, full: false)),
        ]
        if let resumed { members.append(("resumed", .number(resumed))) }
        return .object(members)
    }

    func hello(_ request: Request) throws(ProtocolError) {
        if let version = request.integer("protocol"), version != Int64(protocolVersion) {
            throw ProtocolError(.badRequest, "protocol \(version) is not supported; this daemon speaks \(protocolVersion)")
        }
        guard let resume = request.string("resume") else {
            return succeed(request, greeting())
        }
        let finish: (ConnectionHandler, Result<Int, RouteError>) -> Void = { handler, result in
            switch result {
            case .success(let moved): handler.succeed(request, handler.greeting(resumed: moved))
            case .failure(let error): handler.refuse(request.id, Wire.error(error))
            }
        }
        if executor.store.sharesSessions {
            let (uid, caller) = (self.uid, self.caller)
            perform({ executor.resumeSession(token: resume, uid: uid, as: caller, completion: $0) }, then: finish)
        } else {
            let old = try server.takeOverSession(token: resume, uid: uid)
            perform({ executor.resumeSession(old, as: caller, completion: $0) }, then: finish)
        }
    }

    func delete(_ request: Request) throws(RouteError) {
        let key = try executor.key(request.string("key")!, for: principal)
        perform({ executor.delete(key, as: caller, completion: $0) }) { handler, result in
            switch result {
            case .success(let removed): handler.succeed(request, .object([("deleted", .number(removed.count))]))
            case .failure(let error): handler.refuse(request.id, Wire.error(error))
            }
        }
    }

    func touch(_ request: Request) throws(RouteError) {
        let key = try executor.key(request.string("key")!, for: principal)
        let ttl = try executor.touchTTL(request)
        perform({ executor.touch(key, ttl: ttl, as: caller, completion: $0) }) { handler, result in
            switch result {
            case .success(let routes): handler.succeed(request, Wire.touchResult(routes, tunnel: key.kind == nil, for: handler.viewer))
            case .failure(let error): handler.refuse(request.id, Wire.error(error))
            }
        }
    }

    func update(_ request: Request) throws(RouteError) {
        let key = try executor.key(request.string("key")!, for: principal)
        let change = try executor.routeChange(request)
        perform({ executor.update(key, change, as: caller, completion: $0) }) { handler, result in
            switch result {
            case .success(let route): handler.succeed(request, .object([("route", Wire.route(route, for: handler.viewer))]))
            case .failure(let error): handler.refuse(request.id, Wire.error(error))
            }
        }
    }

    func history(_ request: Request) throws(RouteError) {
        let query = try executor.historyQuery(request)
        perform({ executor.history(query, as: caller, completion: $0) }) { handler, result in
            switch result {
            case .success(let page): handler.succeed(request, Wire.history(page, for: handler.viewer))
            case .failure(let error): handler.refuse(request.id, Wire.error(error))
            }
        }
    }

    func lookup(_ request: Request) throws(ProtocolError) {
        let given = (request.arguments["key"] != nil ? 1 : 0) + (request.arguments["host"] != nil ? 2 : 0)
            + (request.arguments["sni"] != nil ? 4 : 0)
        let query: RequestExecutor.LookupQuery
        switch given {
        case 1: query = .key(request.string("key")!)
        case 2: query = .host(request.string("host")!)
        case 4: query = .sni(request.string("sni")!)
        default: throw ProtocolError(.badRequest, "lookup takes exactly one of key, host or sni")
        }
        let answer: RequestExecutor.LookupAnswer
        do {
            switch query {
            case .host(let value), .sni(let value):
                // The gateway's question: straight to the route, no wrapping.
                writeLookup(request, try executor.route(forHost: value, sni: given == 4, as: caller, tally: &lookupTally))
                return
            case .key:
                answer = try executor.lookup(query, as: caller, tally: &lookupTally)
            }
        } catch {
            refuse(request.id, Wire.error(error))
            return
        }
        switch answer {
        case .tunnel(let info):
            succeed(request, Wire.tunnel(info, for: viewer))
        case .route(let result):
            writeLookup(request, result)
        }
    }

    /// Writes a lookup's reply straight into the outbound buffer.
    func writeLookup(_ request: Request, _ result: LookupResult) {
        let revision = table.revision
        let viewer = self.viewer
        let length = Reply.maximumSuccessHeadLength(request.id) + Wire.lookupMaximumLength(result) + 8
        writeReply(maximumLength: length) { out in
            Reply.writeSuccessHead(request.id, revision: revision, to: &out)
            Wire.writeLookup(result, for: viewer, to: &out)
            out.literal("}\n")
        }
    }

    func stats(_ request: Request) {
        let stats = server.statsObject(for: principal)
        succeed(request, stats, revision: stats["revision"]?.integerValue.map { UInt64(max(0, $0)) } ?? table.revision)
    }

    // MARK: Batch

    /// Runs a batch: with `atomic`, all or nothing; otherwise one operation after another, each
    /// with its own result or error (the executor reads and shapes it for every front end).
    func batch(_ request: Request) throws(ProtocolError) {
        let prepared = try executor.prepareBatch(request, allowsSession: true, session: id, for: principal)
        perform({ executor.run(prepared, as: caller, completion: $0) }) { handler, result in
            switch result {
            case .success(let value): handler.succeed(request, value)
            case .failure(let error): handler.refuse(request.id, error)
            }
        }
    }
}
