import DomainRouter
import Hummingbird
import Logging
import NIOCore
import RouterEngine
import RouterProtocol
import Synchronization

/// The HTTP API (docs/http.md): the product document's REST endpoints in front of the same
/// `RequestExecutor` as the Unix socket, so the same rules, error codes, audit lines and events.
/// JSON in and out, with the protocol's field names and route object; every request carries
/// `Authorization: Bearer TOKEN`, which names the principal it acts as.
///
/// `POST /routes`, `GET|DELETE /routes/{key}`, `POST /routes/{key}/touch`, `GET /routes`,
/// `GET /lookup`, `POST /batch`, `GET /watch`, `GET /stats`, `GET /history`, `GET /holds`.
package final class HTTPAPI: Sendable {
    let executor: RequestExecutor
    let tokens: Mutex<HTTPTokens>
    let logger: Logger
    /// The largest request body accepted.
    let maximumBody: Int
    /// The bounds and counts watches share with the socket's.
    let watchers: HTTPWatchers
    /// Whether changes are lines in the log (`--audit-log`).
    let auditsChanges: Bool
    /// The daemon's socket connections and watchers now, for `/metrics`.
    let counts: @Sendable () -> (connections: Int, watchers: Int, http: Int)
    /// The daemon's `stats` object as a principal sees it (`RouterServer.statsObject(for:)`),
    /// for `GET /stats`.
    let stats: @Sendable (Principal) -> JSONValue

    package init(executor: RequestExecutor, tokens: HTTPTokens, logger: Logger, maximumBody: Int,
                 watchers: HTTPWatchers = HTTPWatchers(eventLimit: 65_536, byteLimit: 32 << 20), auditsChanges: Bool = true,
                 counts: @escaping @Sendable () -> (connections: Int, watchers: Int, http: Int) = { (0, 0, 0) },
                 stats: @escaping @Sendable (Principal) -> JSONValue) {
        self.executor = executor
        self.watchers = watchers
        self.auditsChanges = auditsChanges
        self.tokens = Mutex(tokens)
        self.logger = logger
        self.maximumBody = maximumBody
        self.counts = counts
        self.stats = stats
    }

    /// Whether this daemon can take changes now: 200 `{"status":"ready"}`, or 503 (with
    /// `Retry-After`) while its store cannot be reached or has not been heard from for 3 s (a
    /// follower hears from Redis at least every second). A load balancer sends writers elsewhere meanwhile; reads from
    /// the copy go on either way.
    func readiness() -> Response {
        let status = executor.store.status
        let store = Wire.store(status, tableRevision: executor.table.revision, full: true)
        let silent = status.lastContactMilliseconds.map { $0 > 3000 } ?? false
        guard status.available, !silent, status.configMismatch.isEmpty else {
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[.retryAfter] = "1"
            let mismatch = "daemons on this store enforce other namespaces (\(status.configMismatch.joined(separator: ", "))): give them the same configuration file"
            let why = !status.configMismatch.isEmpty && status.available && !silent ? mismatch
                : status.problem ?? "no word from the store for \(status.lastContactMilliseconds ?? 0) ms"
            return HTTPAPI.json(.object([("status", .string("unavailable")), ("reason", .string(why)), ("store", store)]),
                                status: .serviceUnavailable, headers: headers)
        }
        return HTTPAPI.json(.object([("status", .string("ready")), ("store", store)]))
    }

    /// Every path the API serves and the methods it takes there (what the router registers, and
    /// what a test compares with docs/openapi.json).
    package static let endpoints: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/routes", [.get, .post]), ("/routes/:key", [.get, .patch, .delete]), ("/routes/:key/touch", [.post]),
        ("/lookup", [.get]), ("/batch", [.post]), ("/watch", [.get]), ("/stats", [.get]), ("/history", [.get]), ("/holds", [.get]), ("/dns", [.get]), ("/healthz", [.get]), ("/readyz", [.get]),
        ("/metrics", [.get]), ("/openapi.json", [.get]),
    ]

    /// The methods the endpoint at `path` takes, or nil when no endpoint is there.
    static func methods(at path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (pattern, methods) in endpoints {
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { continue }
            if zip(parts, segments).allSatisfy({ $0 == $1 || ($0.hasPrefix(":") && !$1.isEmpty) }) { return methods }
        }
        return nil
    }

    /// The router with every endpoint.
    package func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let api = self
        router.addMiddleware { JSONErrorMiddleware() }
        router.get("/healthz") { _, _ in HTTPAPI.json(.object([("status", .string("serving"))])) }
        router.get("/readyz") { _, _ in api.readiness() }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: HTTPAPI.openAPIDocument + "\n")))
        }
        router.get("/metrics") { _, _ in
            let (connections, watchers, http) = api.counts()
            let text = api.executor.metrics.exposition(stats: api.executor.stats(), watchers: watchers, connections: connections,
                                                       httpConnections: http, namespaces: api.executor.table.namespaceUse())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.post("/routes") { request, context in await api.respond(.add, request, context) { try await api.add(request, context, as: $0) } }
        router.get("/routes") { request, context in await api.respond(.list, request, context) { try api.list(request, context, as: $0) } }
        router.get("/routes/:key") { request, context in
            await api.respond(.lookup, request, context) { try api.get(request, context, key: HTTPAPI.key(context), as: $0) }
        }
        router.delete("/routes/:key") { request, context in
            await api.respond(.delete, request, context) { try await api.delete(request, context, key: HTTPAPI.key(context), as: $0) }
        }
        router.patch("/routes/:key") { request, context in
            await api.respond(.update, request, context) { try await api.update(request, context, key: HTTPAPI.key(context), as: $0) }
        }
        router.post("/routes/:key/touch") { request, context in
            await api.respond(.touch, request, context) { try await api.touch(request, context, key: HTTPAPI.key(context), as: $0) }
        }
        router.get("/lookup") { request, context in await api.respond(.lookup, request, context) { try api.lookup(request, context, as: $0) } }
        router.post("/batch") { request, context in await api.respond(.batch, request, context) { try await api.batch(request, context, as: $0) } }
        router.get("/watch") { request, context in await api.respond(.watch, request, context) { try api.watch(request, context, as: $0) } }
        router.get("/history") { request, context in await api.respond(.history, request, context) { try await api.history(request, context, as: $0) } }
        router.get("/holds") { request, context in await api.respond(.holds, request, context) { try api.holds(request, context, as: $0) } }
        router.get("/dns") { request, context in await api.respond(.dns, request, context) { try api.dns(request, context, as: $0) } }
        router.get("/stats") { request, context in await api.respond(.stats, request, context) { caller in HTTPAPI.json(api.stats(caller.principal)) } }
        return router
    }

    // MARK: Answers

    /// A failure as the API answers it: the protocol's error object, under the status its code
    /// maps to (docs/http.md).
    struct Failure: Error {
        var error: ProtocolError
        /// Decided by the executor, which has audited and counted it; otherwise the front
        /// end's own refusal (a malformed body, a bad argument), audited and counted as such.
        var decided = false

        init(_ error: ProtocolError) { self.error = error }
        init(decided error: ProtocolError) { (self.error, self.decided) = (error, true) }
        init(_ code: ErrorCode, _ message: String) { self.error = ProtocolError(code, message) }
    }

    /// The `:key` path segment, its percent-escapes decoded.
    static func key(_ context: APIRequestContext) -> String {
        percentDecoded(context.parameters.get("key") ?? "")
    }

    static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .forbidden, .reserved, .quotaExceeded: return .forbidden
        case .invalidName, .outOfRange: return .unprocessableContent
        case .tooLarge: return .contentTooLarge
        case .compacted: return .gone
        case .unavailable: return .serviceUnavailable
        case .unauthorized: return .unauthorized
        case .internal: return .internalServerError
        default: return .badRequest
        }
    }

    /// Runs the endpoint for `op` as the caller the request's token names, turning a failure
    /// into the error response. Every refusal is in the audit trail and the metrics once, as
    /// on the socket: the executor's by the executor, the rest (no valid token, a malformed
    /// body, a bad argument) here.
    func respond(_ op: Operation, _ request: Request, _ context: APIRequestContext,
                 _ body: (Caller) async throws -> Response) async -> Response {
        let caller: Caller
        do {
            caller = try self.caller(request, context)
        } catch {
            let from = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
            logger.info("refused", metadata: ["op": "\(op.rawValue)", "code": "\(error.error.code.rawValue)", "reason": "\(error.error.message)",
                                              "via": "http", "from": "\(from)"])
            executor.metrics.count(op, code: error.error.code.rawValue, transport: .http)
            return Self.response(for: error)
        }
        do {
            return try await body(caller)
        } catch let failure as Failure {
            if !failure.decided {
                executor.refused(code: failure.error.code.rawValue, message: failure.error.message, op: op.rawValue, as: caller)
            }
            return Self.response(for: failure)
        } catch {
            logger.error("HTTP API: \(error)")
            return Self.json(Self.errorObject(ProtocolError(.internal, "\(error)")), status: .internalServerError)
        }
    }

    /// A failure's response: the error object under its status, with `WWW-Authenticate` for
    /// `unauthorized` and `Retry-After` for `unavailable`.
    static func response(for failure: Failure) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if failure.error.code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if failure.error.code == .unavailable { headers[.retryAfter] = "1" }
        return json(errorObject(failure.error), status: status(for: failure.error.code), headers: headers)
    }

    /// `{"error":{code,message,details}}`.
    static func errorObject(_ error: ProtocolError) -> JSONValue {
        .object([("error", error.object)])
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [.contentType: "application/json"]) -> Response {
        var writer = JSONWriter()
        writer.write(value)
        var bytes = writer.bytes
        bytes.append(0x0A)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Who asks

    /// The caller a request's bearer token names; `unauthorized` otherwise.
    func caller(_ request: Request, _ context: APIRequestContext) throws(Failure) -> Caller {
        guard let header = request.headers[.authorization] else {
            throw Failure(.unauthorized, "no Authorization header: send Authorization: Bearer TOKEN")
        }
        // The scheme is case-insensitive (RFC 9110 §11.1): `Bearer`, `bearer`, `BEARER`; then
        // one or more spaces and the token.
        let utf8 = Array(header.utf8.prefix(7))
        guard utf8.count == 7, utf8[6] == UInt8(ascii: " "),
              String(decoding: utf8[0..<6], as: UTF8.self).lowercased() == "bearer" else {
            throw Failure(.unauthorized, "the Authorization header is not a bearer token: send Authorization: Bearer TOKEN")
        }
        let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        guard let principal = tokens.withLock({ $0.principal(for: token) }) else {
            throw Failure(.unauthorized, "the bearer token is not valid (unknown, or revoked)")
        }
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(principal)"
        logger[metadataKey: "via"] = "http"
        let from = context.remoteAddress.map { " from \($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? ""
        return Caller(principal: principal, session: 0, logger: logger, transport: .http, peer: "token \(principal.name)\(from)",
                      audits: auditsChanges)
    }

    /// A path segment with its percent-escapes decoded (`%2A.foo.example.com` is
    /// `*.foo.example.com`); a malformed escape is left as it is, for the key's parser to refuse.
    static func percentDecoded(_ segment: String) -> String {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return segment }
        var bytes: [UInt8] = []
        var input = Array(segment.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2,
               let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces the tokens (SIGHUP re-reads the file).
    package func reload(_ fresh: HTTPTokens) {
        tokens.withLock { $0 = fresh }
    }
}

/// Renders the framework's own refusals (an unknown path, a body it cannot read) as the API's
/// JSON error body.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            // A known path with a method it does not take (any method, QUERY and TRACE too):
            // 405, naming the ones it does.
            if error.status == .notFound, let allowed = HTTPAPI.methods(at: request.uri.path) {
                var headers: HTTPFields = [.contentType: "application/json"]
                headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                let path = request.uri.path
                return HTTPAPI.json(HTTPAPI.errorObject(ProtocolError(.badRequest, "\(path) takes \(headers[.allow]!), not \(request.method.rawValue)")),
                                    status: .methodNotAllowed, headers: headers)
            }
            let code: ErrorCode = error.status == .notFound ? .notFound : error.status == .contentTooLarge ? .tooLarge : .badRequest
            let message = error.status == .notFound ? "no such endpoint: \(request.method.rawValue) \(request.uri.path) (see docs/http.md)" : (error.body ?? "\(error.status)")
            return HTTPAPI.json(HTTPAPI.errorObject(ProtocolError(code, message)), status: error.status)
        }
    }
}

/// The API's request context: Hummingbird's own, and the connection's peer address, which the
/// change history records with the token's name.
package struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?
    /// The connection, for a watch to close when its client is cut.
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}

/// What the HTTP API's watches share with the daemon: the socket's bounds on a watcher's
/// backlog, and the counts and memory its watchers take part in.
package struct HTTPWatchers: Sendable {
    /// `--watcher-buffer`: events a watcher may be behind (for 2 s; 16 times it at once).
    package var eventLimit: Int
    /// `--watcher-buffer-bytes`: the most memory one watcher's backlog may hold.
    package var byteLimit: Int
    /// A watch started streaming, or ended.
    package var started: @Sendable () -> Void
    package var ended: @Sendable () -> Void
    /// A watcher was cut for not reading: count it, and return the memory its backlog held.
    package var cut: @Sendable () -> Void

    package init(eventLimit: Int, byteLimit: Int, started: @escaping @Sendable () -> Void = {},
                 ended: @escaping @Sendable () -> Void = {}, cut: @escaping @Sendable () -> Void = {}) {
        self.eventLimit = eventLimit
        self.byteLimit = byteLimit
        self.started = started
        self.ended = ended
        self.cut = cut
    }
}
