import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1
import NIOSSL
import RouterProtocol
import Synchronization

/// A client of etcd's v3 API over its JSON gateway (`POST /v3/kv/range`, `/v3/kv/txn`,
/// `/v3/watch`, `/v3/lease/…` on each member's client port), on AsyncHTTPClient's pooled
/// HTTP/1.1 connections.
///
/// **Why the JSON gateway and not gRPC**: it is served by every etcd 3.4+ member on its client
/// port with the same semantics (it is the gRPC service, translated in the member), needs no
/// generated code, and its streaming calls (watch) arrive as newline-separated JSON objects.
/// The price — base64 keys and values and a JSON encoding in the member — is paid on routerd's
/// writes, never on a lookup, which reads the replica.
///
/// **Several members**: calls go to one member at a time; when it cannot be reached, has no
/// leader (every request carries `hasleader`, so such a member refuses at once rather than
/// waiting for an election), answers with an HTTP error page instead of etcd's JSON, or times
/// out, the client moves to the next one. A call that may be repeated (`failover: true`:
/// reads, lease calls) is retried on each member once; one that must not be (a transaction)
/// fails with `unreachable` for its caller to settle.
///
/// **Authentication**: with a user, each member is asked for a token (`/v3/auth/authenticate`)
/// before the first call to it, and again when it says the token expired.
public final class EtcdClient: Sendable {
    public let configuration: EtcdConfiguration
    let http: HTTPClient
    /// How long a call waits for its answer by default.
    public let timeout: Duration

    struct State {
        /// The member calls go to now.
        var current = 0
        /// Auth tokens by member.
        var tokens: [Int: String] = [:]
    }

    let state = Mutex(State())

    /// A client of the cluster `configuration` names; nothing is sent until the first call.
    /// `connections` bounds the connections kept to a member (calls beyond wait for one).
    public init(configuration: EtcdConfiguration, group: any EventLoopGroup, timeout: Duration = .seconds(2),
                connections: Int = 8) throws(EtcdError) {
        self.configuration = configuration
        self.timeout = timeout
        var settings = HTTPClient.Configuration(timeout: HTTPClient.Configuration.Timeout(connect: Self.amount(min(timeout, .seconds(1)))))
        settings.connectionPool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60))
        settings.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        if configuration.tls {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = configuration.caFile {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                }
                if let certificate = configuration.certificateFile {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                    guard let key = configuration.keyFile else {
                        throw EtcdError.configuration("a client certificate needs its key (--store-key)")
                    }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            } catch let error as EtcdError {
                throw error
            } catch {
                throw .configuration("cannot read the TLS files for \(configuration.description): \(error)")
            }
            settings.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: settings)
    }

    /// The member calls go to now, for status and messages.
    public var currentEndpoint: EtcdConfiguration.Endpoint {
        configuration.endpoints[state.withLock { $0.current }]
    }

    /// Closes every connection; calls after it fail.
    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: Calls

    /// Calls `path` (such as `kv/range`) with `body`, and returns the answer. With `failover`,
    /// a member that cannot answer is left for the next, each tried once.
    public func call(_ path: String, _ body: JSONValue, timeout: Duration? = nil, failover: Bool = true) async throws(EtcdError) -> JSONValue {
        var writer = JSONWriter(capacity: 512)
        writer.write(body)
        let bytes = writer.bytes
        let count = configuration.endpoints.count
        var last = EtcdError(.unreachable, "no member tried")
        for _ in 0..<(failover ? count : 1) {
            let member = state.withLock { $0.current }
            do {
                return try await send(path, bytes, to: member, timeout: timeout ?? self.timeout)
            } catch {
                last = error
                switch error.code {
                case .unreachable, .noLeader, .notEtcd:
                    moveOn(from: member)
                    continue
                default:
                    throw error
                }
            }
        }
        throw last
    }

    /// A range read (`kv/range`), retried on the next member when one cannot answer.
    public func range(_ request: JSONValue, timeout: Duration? = nil) async throws(EtcdError) -> EtcdRange {
        try EtcdRange(try await call("kv/range", request, timeout: timeout))
    }

    /// A transaction (`kv/txn`), sent once: when it fails `unreachable`, it may or may not have
    /// been applied.
    public func txn(_ request: JSONValue, timeout: Duration? = nil, failover: Bool = false) async throws(EtcdError) -> EtcdTxnResult {
        try EtcdTxnResult(try await call("kv/txn", request, timeout: timeout, failover: failover))
    }

    /// Stops using `member` (the next call goes to the one after it), unless a call has moved
    /// on already.
    func moveOn(from member: Int) {
        state.withLock { s in
            if s.current == member { s.current = (member + 1) % configuration.endpoints.count }
        }
    }

    func request(_ path: String, _ bytes: [UInt8], to member: Int) async throws(EtcdError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.base(configuration.endpoints[member]) + "/v3/" + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // A member without a leader refuses at once instead of waiting for an election.
        request.headers.add(name: "Grpc-Metadata-hasleader", value: "true")
        if configuration.user != nil {
            request.headers.add(name: "Authorization", value: try await token(for: member))
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return request
    }

    func send(_ path: String, _ bytes: [UInt8], to member: Int, timeout: Duration, reauthenticated: Bool = false) async throws(EtcdError) -> JSONValue {
        let request = try await request(path, bytes, to: member)
        let body: ByteBuffer
        let status: HTTPResponseStatus
        do {
            let response = try await http.execute(request, timeout: Self.amount(timeout))
            status = response.status
            body = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw EtcdError(.unreachable, "\(configuration.endpoints[member]): \(Self.describe(error, timeout: timeout))")
        }
        let json = try Self.json(body, status: status, member: configuration.endpoints[member], path: path)
        guard status == .ok else {
            let error = Self.error(json, status: status, member: configuration.endpoints[member])
            if error.grpcCode == 16, configuration.user != nil, !reauthenticated {
                // The member's token expired (simple tokens last five minutes): ask again.
                state.withLock { _ = $0.tokens.removeValue(forKey: member) }
                return try await send(path, bytes, to: member, timeout: timeout, reauthenticated: true)
            }
            throw error
        }
        return json
    }

    /// What went wrong with a connection, for a person: the system's words for an errno, the
    /// timeout that passed, or the client's own description.
    static func describe(_ error: any Error, timeout: Duration?) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "no connection within \(min(timeout ?? .seconds(1), .seconds(1)))"
            case .deadlineExceeded, .readTimeout: return timeout.map { "no answer within \($0)" } ?? "no answer in time"
            case .remoteConnectionClosed: return "the member closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error, timeout: timeout)
        }
        return "\(error)"
    }

    /// An answer's JSON; a body that is not JSON is etcd's own text, said as the error.
    static func json(_ body: ByteBuffer, status: HTTPResponseStatus, member: EtcdConfiguration.Endpoint, path: String) throws(EtcdError) -> JSONValue {
        do {
            return try body.withUnsafeReadableBytes { raw throws(JSONError) in
                try JSONParser.parse(raw.bindMemory(to: UInt8.self), maximumDepth: 32)
            }
        } catch {
            let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self).trimmingSuffix()
            if text.hasPrefix("CommonName of client") {
                // etcd (3.4+) refuses its gateway to a client certificate with a CommonName
                // while authentication is on (it would not be taken for the user).
                throw EtcdError(.denied, "\(member): \(text): with authentication on, give routerd a client certificate without a CommonName (the user comes from the password)")
            }
            if status != .ok {
                throw EtcdError(.notEtcd, "\(member) answered \(path) with HTTP \(status.code)"
                                + (text.isEmpty ? " and nothing else" : ": \(text)") + "; is it an etcd (3.4 or newer) client port?")
            }
            throw .malformed("\(member) answered \(path) with HTTP \(status.code) and no JSON: \(error)")
        }
    }

    /// The error an answer with `status` and body `json` (`{"error", "code", "message"}`) says.
    static func error(_ json: JSONValue, status: HTTPResponseStatus, member: EtcdConfiguration.Endpoint) -> EtcdError {
        let code = json["code"]?.integerValue.map(Int.init)
        let message = json["message"]?.stringValue ?? json["error"]?.stringValue ?? "HTTP \(status.code)"
        let text = "\(member): \(message)"
        switch code {
        case 11 where message.contains("compacted"): return EtcdError(.compacted, text, grpcCode: code)
        case 14 where message.contains("no leader"): return EtcdError(.noLeader, text, grpcCode: code)
        case 14, 4: return EtcdError(.unreachable, text, grpcCode: code)
        case 7, 16: return EtcdError(.denied, text, grpcCode: code)
        default: return EtcdError(.refused, text, grpcCode: code)
        }
    }

    /// The member's auth token, asked for once.
    func token(for member: Int) async throws(EtcdError) -> String {
        if let token = state.withLock({ $0.tokens[member] }) { return token }
        guard let user = configuration.user else { return "" }
        var writer = JSONWriter()
        writer.write(.object([("name", .string(user)), ("password", .string(configuration.password ?? ""))]))
        var request = HTTPClientRequest(url: configuration.base(configuration.endpoints[member]) + "/v3/auth/authenticate")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: writer.bytes))
        let json: JSONValue
        let status: HTTPResponseStatus
        let body: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: Self.amount(timeout))
            status = response.status
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw EtcdError(.unreachable, "\(configuration.endpoints[member]): \(Self.describe(error, timeout: timeout))")
        }
        json = try Self.json(body, status: status, member: configuration.endpoints[member], path: "auth/authenticate")
        guard status == .ok, let token = json["token"]?.stringValue else {
            let error = Self.error(json, status: status, member: configuration.endpoints[member])
            throw EtcdError(.denied, "user \(user) could not log in: \(error.message)", grpcCode: error.grpcCode)
        }
        state.withLock { $0.tokens[member] = token }
        return token
    }

    static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    // MARK: Watch

    /// Watches `[key, end)` from cluster revision `start`, with progress notifications, calling
    /// `body` with each answer (`created`, events, progress, or `canceled` with its
    /// `compact_revision`), until `body` returns false, the member ends the stream, or the task
    /// is cancelled. Throws `unreachable` when the member cannot be reached or the stream
    /// breaks (the client then moves to the next member).
    public func watch(_ key: String, end: String, from start: Int64,
                      body: (JSONValue) async throws(EtcdError) -> Bool) async throws(EtcdError) {
        let create: JSONValue = .object([("create_request", .object([
            ("key", EtcdJSON.bytes(key)), ("range_end", EtcdJSON.bytes(end)),
            ("start_revision", .string(String(start))), ("progress_notify", .bool(true)),
        ]))])
        var writer = JSONWriter()
        writer.write(create)
        let member = state.withLock { $0.current }
        let request = try await request("watch", writer.bytes, to: member)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            moveOn(from: member)
            throw EtcdError(.unreachable, "\(configuration.endpoints[member]): \(Self.describe(error, timeout: nil))")
        }
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[..<newline]
                    defer { pending.removeSubrange(...newline) }
                    guard !line.isEmpty else { continue }
                    let json = try line.withUnsafeBufferPointer { raw throws(JSONError) in try JSONParser.parse(raw, maximumDepth: 32) }
                    if response.status != .ok {
                        throw Self.error(json, status: response.status, member: configuration.endpoints[member])
                    }
                    if let error = json["error"] {
                        throw Self.error(error, status: .ok, member: configuration.endpoints[member])
                    }
                    guard let result = json["result"] else { continue }
                    if try await !body(result) { return }
                }
            }
        } catch let error as EtcdError {
            if error.code == .noLeader || error.code == .unreachable { moveOn(from: member) }
            // An expired token: the next watch asks the member for a new one.
            if error.grpcCode == 16 { state.withLock { _ = $0.tokens.removeValue(forKey: member) } }
            throw error
        } catch is CancellationError {
            return
        } catch let error as JSONError {
            throw .malformed("\(configuration.endpoints[member]) sent a watch answer that is not JSON: \(error)")
        } catch {
            if Task.isCancelled { return }
            moveOn(from: member)
            throw EtcdError(.unreachable, "\(configuration.endpoints[member]): the watch broke: \(Self.describe(error, timeout: nil))")
        }
        if !Task.isCancelled {
            moveOn(from: member)
            throw EtcdError(.unreachable, "\(configuration.endpoints[member]) ended the watch")
        }
    }

    // MARK: Leases

    /// Grants a lease of `ttl` seconds and returns its id.
    public func grantLease(ttl: Int) async throws(EtcdError) -> Int64 {
        let json = try await call("lease/grant", .object([("TTL", .string(String(ttl)))]))
        let id = EtcdJSON.int(json["ID"])
        guard id != 0 else { throw .malformed("lease/grant gave no lease: \(json["error"]?.stringValue ?? "")") }
        return id
    }

    /// Renews lease `id`; returns its new TTL in seconds, or 0 when the lease is gone.
    public func keepAlive(_ id: Int64) async throws(EtcdError) -> Int64 {
        let json = try await call("lease/keepalive", .object([("ID", .string(String(id)))]))
        return EtcdJSON.int(json["result"]?["TTL"])
    }

    /// Revokes lease `id` (its keys go at once).
    public func revoke(_ id: Int64) async throws(EtcdError) {
        _ = try await call("lease/revoke", .object([("ID", .string(String(id)))]))
    }
}

extension String {
    /// Without trailing white space.
    func trimmingSuffix() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
