import DomainRouter
import Hummingbird
import RouterEngine
import RouterProtocol

/// The endpoints: each reads its request into the executor's typed call and writes the result
/// as the protocol's JSON.
extension HTTPAPI {
    /// The request body as a JSON object (empty when there is no body).
    func bodyObject(_ request: Request) async throws -> [(String, JSONValue)] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw Failure(.tooLarge, "the request body is over \(maximumBody) bytes")
        }
        if buffer.readableBytes == 0 { return [] }
        let value: JSONValue
        do {
            value = try buffer.withUnsafeReadableBytes { raw in
                try JSONParser.parse(raw.bindMemory(to: UInt8.self))
            }
        } catch {
            throw Failure(.badRequest, "the body is not JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw Failure(.badRequest, "the body is a JSON object of the operation's fields, not \(value.typeName)")
        }
        return members
    }

    /// A request for `op` from `members` (the body or the query), validated as the socket's.
    func protocolRequest(_ op: Operation, _ members: [(String, JSONValue)]) throws(Failure) -> RouterProtocol.Request {
        if let id = members.first(where: { $0.0 == "id" || $0.0 == "op" }) {
            throw Failure(.badRequest, "'\(id.0)' is not a field here: the path says which operation it is")
        }
        switch RouterProtocol.Request.validate(.object([("op", .string(op.rawValue))] + members)) {
        case .success(let request): return request
        case .failure(let failure): throw Failure(failure.error)
        }
    }

    /// A path's key as `caller` writes it (a bare label under their namespace, if they have one).
    func key(_ text: String, for caller: Caller) throws(Failure) -> RouteKey {
        do { return try executor.key(text, for: caller.principal) } catch { throw Failure(Wire.error(error)) }
    }

    // MARK: Routes

    func add(_ request: Request, _ context: APIRequestContext, as caller: Caller) async throws -> Response {
        let fields = try await bodyObject(request)
        let parsed = try protocolRequest(.add, fields)
        if parsed.arguments["session"] != nil {
            throw Failure(.badRequest, "session is not for HTTP: a request has no connection to bind a route to; give it a ttl and touch it")
        }
        let add: AddRequest
        do { add = try executor.addRequest(AddArguments(parsed), session: 0, for: caller.principal) } catch { throw Failure(Wire.error(error)) }
        let results = await withCheckedContinuation { done in
            executor.add([add], as: caller) { done.resume(returning: $0) }
        }
        switch results[0] {
        case .success(let added):
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[.location] = "/routes/" + Self.pathEscaped(added.route.key)
            return Self.json(.object([("route", Wire.route(added.route, for: Viewer(caller.principal)))]),
                             status: added.created ? .created : .ok, headers: headers)
        case .failure(let error):
            throw Failure(decided: Wire.error(error))
        }
    }

    func get(_ request: Request, _ context: APIRequestContext, key text: String, as caller: Caller) throws -> Response {
        return try answer(.key(text), as: caller)
    }

    func delete(_ request: Request, _ context: APIRequestContext, key text: String, as caller: Caller) async throws -> Response {
        let key = try key(text, for: caller)
        let result = await withCheckedContinuation { done in
            executor.delete(key, as: caller) { done.resume(returning: $0) }
        }
        switch result {
        case .success(let removed): return Self.json(.object([("deleted", .number(removed.count))]))
        case .failure(let error): throw Failure(decided: Wire.error(error))
        }
    }

    /// `PATCH /routes/{key}`: the socket's `update`, its fields in the body.
    func update(_ request: Request, _ context: APIRequestContext, key text: String, as caller: Caller) async throws -> Response {
        let key = try key(text, for: caller)
        let parsed = try protocolRequest(.update, [("key", .string(text))] + (try await bodyObject(request)).filter { $0.0 != "key" })
        let change: RouteChange
        do { change = try executor.routeChange(parsed) } catch { throw Failure(Wire.error(error)) }
        let result = await withCheckedContinuation { done in
            executor.update(key, change, as: caller) { done.resume(returning: $0) }
        }
        switch result {
        case .success(let route): return Self.json(.object([("route", Wire.route(route, for: executor.viewer(caller)))]))
        case .failure(let error): throw Failure(decided: Wire.error(error))
        }
    }

    func touch(_ request: Request, _ context: APIRequestContext, key text: String, as caller: Caller) async throws -> Response {
        let key = try key(text, for: caller)
        let parsed = try protocolRequest(.touch, [("key", .string(text))] + (try await bodyObject(request)).filter { $0.0 != "key" })
        let ttl: Duration?
        do { ttl = try executor.touchTTL(parsed) } catch { throw Failure(Wire.error(error)) }
        let result = await withCheckedContinuation { done in
            executor.touch(key, ttl: ttl, as: caller) { done.resume(returning: $0) }
        }
        switch result {
        case .success(let routes):
            return Self.json(Wire.touchResult(routes, tunnel: key.kind == nil, for: executor.viewer(caller)))
        case .failure(let error):
            throw Failure(decided: Wire.error(error))
        }
    }

    /// One page of routes: `{routes, next, revision}`; with `Accept: application/x-ndjson`, every
    /// matching route (up to `limit`) as one line each, a page at a time, so that memory stays
    /// flat for a million routes.
    func list(_ request: Request, _ context: APIRequestContext, as caller: Caller) throws -> Response {
        let parsed = try protocolRequest(.list, try Self.query(request, numbers: ["limit"]))
        var query: RouteQuery
        do { query = try executor.listQuery(parsed, as: caller) } catch { throw Failure(Wire.error(error)) }
        if request.headers[.accept]?.contains("application/x-ndjson") == true {
            return streamList(query, as: caller)
        }
        query.limit = min(query.limit ?? Self.pageSize, Self.pageSize)
        let page = executor.list(query, as: caller)
        let viewer = executor.viewer(caller)
        return Self.json(.object([
            ("routes", .array(page.routes.map { Wire.route($0, for: viewer) })),
            ("next", page.next.map { .string($0) } ?? .null),
            ("revision", .number(page.revision)),
        ]))
    }

    func streamList(_ query: RouteQuery, as caller: Caller) -> Response {
        let executor = self.executor
        let viewer = executor.viewer(caller)
        let body = ResponseBody { writer in
            var query = query
            var remaining = query.limit
            while remaining.map({ $0 > 0 }) ?? true {
                query.limit = min(remaining ?? Self.pageSize, Self.pageSize)
                let page = executor.list(query, as: caller)
                var lines: [UInt8] = []
                lines.reserveCapacity(page.routes.count * 400)
                for route in page.routes {
                    var w = JSONWriter()
                    w.write(.object([("route", Wire.route(route, for: viewer))]))
                    lines += w.bytes
                    lines.append(0x0A)
                }
                if !lines.isEmpty { try await writer.write(ByteBuffer(bytes: lines)) }
                remaining = remaining.map { $0 - page.routes.count }
                guard let next = page.next else { break }
                query.after = next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    /// The most routes in one page of `GET /routes`.
    static let pageSize = 1000

    /// The gateway's question: which route a raw Host or SNI value (or a key) goes to.
    func lookup(_ request: Request, _ context: APIRequestContext, as caller: Caller) throws -> Response {
        let parameters = try Self.query(request, numbers: [])
        let given = parameters.filter { ["host", "sni", "key"].contains($0.0) }
        guard given.count == 1, parameters.count == 1, let value = given[0].1.stringValue else {
            throw Failure(.badRequest, "lookup takes exactly one of ?host=, ?sni= or ?key=")
        }
        let query: RequestExecutor.LookupQuery = given[0].0 == "host" ? .host(value) : given[0].0 == "sni" ? .sni(value) : .key(value)
        return try answer(query, as: caller)
    }

    /// A lookup's answer: `{route, match, via}`, or `{tunnel, routes}` for a `uuid:` key.
    func answer(_ query: RequestExecutor.LookupQuery, as caller: Caller) throws(Failure) -> Response {
        do {
            switch try executor.lookup(query, as: caller) {
            case .route(let found):
                return Self.json(Wire.lookup(found, for: executor.viewer(caller)))
            case .tunnel(let info):
                return Self.json(Wire.tunnel(info, for: executor.viewer(caller)))
            }
        } catch {
            throw Failure(decided: Wire.error(error))
        }
    }

    func batch(_ request: Request, _ context: APIRequestContext, as caller: Caller) async throws -> Response {
        let parsed = try protocolRequest(.batch, try await bodyObject(request))
        let prepared: PreparedBatch
        do { prepared = try executor.prepareBatch(parsed, allowsSession: false, session: 0, for: caller.principal) } catch { throw Failure(error) }
        let result = await withCheckedContinuation { done in
            executor.run(prepared, as: caller) { done.resume(returning: $0) }
        }
        switch result {
        case .success(let value): return Self.json(value)
        case .failure(let error): throw Failure(decided: error)
        }
    }

    /// `GET /history`: a page of recorded changes, newest first (`routerd --db`).
    func history(_ request: Request, _ context: APIRequestContext, as caller: Caller) async throws -> Response {
        let parsed = try protocolRequest(.history, try Self.query(request, numbers: ["before", "limit"]))
        let query: HistoryQuery
        do { query = try executor.historyQuery(parsed) } catch { throw Failure(Wire.error(error)) }
        let result = await withCheckedContinuation { done in
            executor.history(query, as: caller) { done.resume(returning: $0) }
        }
        switch result {
        case .success(let page): return Self.json(Wire.history(page, for: executor.viewer(caller)))
        case .failure(let error): throw Failure(decided: Wire.error(error))
        }
    }

    /// `GET /holds`: the names held for their last owners (`routerd --db --hold-released`).
    func holds(_ request: Request, _ context: APIRequestContext, as caller: Caller) throws -> Response {
        let parsed = try protocolRequest(.holds, try Self.query(request, numbers: []))
        do {
            return Self.json(Wire.held(try executor.heldNames(prefix: parsed.string("prefix"), owner: parsed.string("owner"), as: caller)))
        } catch {
            throw Failure(Wire.error(error))
        }
    }

    /// `GET /dns?name=&type=`: what routerd's DNS answers for a name, and why.
    func dns(_ request: Request, _ context: APIRequestContext, as caller: Caller) throws -> Response {
        let parsed = try protocolRequest(.dns, try Self.query(request, numbers: []))
        do {
            return Self.json(try executor.explainDNS(name: parsed.string("name")!, type: parsed.string("type"), as: caller))
        } catch {
            throw Failure(Wire.error(error))
        }
    }

    // MARK: Helpers

    /// The query parameters as protocol fields: `numbers` are sent as JSON numbers.
    static func query(_ request: Request, numbers: Set<String>) throws(Failure) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            let text = String(value)
            if numbers.contains(name) {
                guard let n = Int(text) else { throw Failure(.badRequest, "\(name) must be a whole number, not '\(text.clipped(20))'") }
                fields.append((name, .number(n)))
            } else {
                fields.append((name, .string(text)))
            }
        }
        return fields
    }

    /// A key as a path segment (`*` and `:` are fine in a path; `/`, `%`, `?` and `#` are escaped).
    static func pathEscaped(_ key: String) -> String {
        var out = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0...0x20, 0x7F...:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            default:
                out.append(Character(UnicodeScalar(byte)))
            }
        }
        return out
    }
}

private extension String {
    var leftPadded: String { count == 1 ? "0" + self : self }
}
