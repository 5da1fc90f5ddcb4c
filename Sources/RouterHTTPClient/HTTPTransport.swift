#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterClient
import RouterProtocol

/// routerd's HTTP API as a `RouterTransport`: each request line becomes its REST call
/// (`HTTPExchange`) and each response the reply lines the socket would have sent, so that
/// `RouterClient` — and every routerctl command on it — works the same against a remote routerd.
///
/// Requests run one after another in the order written (a later one starts when the one before
/// has its answer), over one kept-alive connection: a batch file's `add` then `delete` of one
/// name mean what they say. Waits are `poll`s of a quarter second at most, checking for Ctrl-C.
///
/// Hand-written HTTP/1.1 (`HTTPConnection`, `ResponseParser`) rather than AsyncHTTPClient, on
/// purpose: routerctl is started once per command, and AsyncHTTPClient brought SwiftNIO, its
/// HTTP/2 and Foundation into the binary, about 2,500 more protocol conformances that the Swift
/// runtime scans in every process's first dynamic casts: every command, socket ones included,
/// started that much slower (see README, Performance). TLS is the system's OpenSSL, loaded
/// only for an `https://` URL.
public final class HTTPTransport: RouterTransport {
    /// The URL as given.
    public let address: String
    public var greetsFirst: Bool { false }

    private let endpoint: Endpoint
    private let headers: [UInt8]
    private let caFile: String?
    private let connectTimeout: Duration
    private var connection: HTTPConnection?

    /// What waits to run, in request order: an exchange, or a line already decided here.
    private enum Queued {
        case exchange(HTTPExchange)
        case line([UInt8])
    }

    /// The exchange in flight and what has come of it.
    private struct Running {
        var exchange: HTTPExchange
        var parser = ResponseParser()
        var body: [UInt8] = []
        /// Set by `cancel` for a running watch: its end is then a success.
        var cancelled = false
        /// Whether a watch's stream ended with routerd's `{"error":…}` line (else it was cut).
        var endedWithError = false
    }

    private var queue: [Queued] = []
    private var queueStart = 0
    private var running: Running?
    private var lines: [String] = []
    private var linesStart = 0
    private var closed = false
    private var broken = false

    /// A transport to the API at `url` (`http://HOST:PORT` or `https://…`, optionally with a
    /// path prefix), sending `token` as a bearer token and, for HTTPS, trusting the
    /// certificates in the PEM file `caFile` (else the system's). Connects on the first request.
    public init(url: String, token: String?, trusting caFile: String? = nil, connectTimeout: Duration = .seconds(10)) throws(ClientError) {
        address = url
        do { endpoint = try Endpoint(url) } catch {
            throw .unreachable(path: url, reason: error.description)
        }
        var head = "Host: \(endpoint.authority)\r\nUser-Agent: routerctl/\(ProductVersion.current)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        headers = Array(head.utf8)
        self.caFile = caFile
        self.connectTimeout = connectTimeout
    }

    deinit {
        close()
    }

    public func close() {
        guard !closed else { return }
        closed = true
        running = nil
        connection?.shutDown()
        connection = nil
    }

    public var isAlive: Bool { !closed && !broken }

    public var hasBufferedLine: Bool {
        if linesStart < lines.count { return true }
        if running == nil, queueStart < queue.count, case .line = queue[queueStart] { return true }
        return false
    }

    // MARK: Writing

    public func write(_ bytes: [UInt8]) throws(ClientError) {
        guard isAlive else { throw .connectionClosed }
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            let line = Array(bytes[start..<i])
            start = i + 1
            if line.isEmpty { continue }
            accept(line)
        }
        try advance()
    }

    private func accept(_ line: [UInt8]) {
        let parsed = line.withUnsafeBufferPointer { Request.parse($0) }
        switch parsed {
        case .failure(let failure):
            enqueue(.line(Reply.failure(failure.id, failure.error)))
        case .success(let request) where request.op == Operation.cancel.rawValue:
            cancel(request)
        case .success(let request):
            switch HTTPExchange.make(request) {
            case .success(let exchange): enqueue(.exchange(exchange))
            case .failure(let error): enqueue(.line(Reply.failure(request.id, error)))
            }
        }
    }

    private func enqueue(_ item: Queued) {
        if queueStart > 1024 && queueStart * 2 > queue.count {
            queue.removeFirst(queueStart)
            queueStart = 0
        }
        queue.append(item)
    }

    /// `cancel` ends the running watch it names (its end is then its success line).
    private func cancel(_ request: Request) {
        let target = request.arguments["watch"].flatMap { RequestID($0) }
        if let target, let current = running, current.exchange.id == target, case .watch = current.exchange.shape {
            // A stream ends only with its connection: the next request opens another.
            connection?.shutDown()
            connection = nil
            running = nil
            emit(Reply.success(current.exchange.id, revision: 0, result: .object([])))
            enqueue(.line(Reply.success(request.id, revision: 0, result: .object([]))))
        } else {
            enqueue(.line(Reply.failure(request.id, ProtocolError(.notFound, "no watch with id \(target.map(\.description) ?? "null") is running"))))
        }
    }

    // MARK: Reading

    public func readLine(timeout: Duration?, isInterrupted: () -> Bool) throws(ClientError) -> String {
        var deadline: ContinuousClock.Instant?
        while true {
            if linesStart < lines.count {
                let line = lines[linesStart]
                linesStart += 1
                if linesStart == lines.count { lines.removeAll(keepingCapacity: true); linesStart = 0 }
                return line
            }
            guard isAlive else { throw .connectionClosed }
            try advance()
            if linesStart < lines.count { continue }
            if isInterrupted() { throw .interrupted }
            var wait = 250
            if let timeout {
                let end = deadline ?? ContinuousClock.now + timeout
                deadline = end
                let left = end - ContinuousClock.now
                if left <= .zero { throw .timedOut(after: timeout) }
                wait = min(wait, Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1)
            }
            if running != nil {
                try collect(waiting: Int32(wait))
            } else {
                // Nothing asked, nothing to come: wait as a socket would, for the deadline.
                var pause = timespec(tv_sec: 0, tv_nsec: wait * 1_000_000)
                nanosleep(&pause, nil)
            }
        }
    }

    /// Starts queued work while nothing runs, turning decided lines into replies on the way.
    private func advance() throws(ClientError) {
        while running == nil, queueStart < queue.count {
            let item = queue[queueStart]
            queueStart += 1
            switch item {
            case .line(let bytes): emit(bytes)
            case .exchange(let exchange): try start(exchange)
            }
        }
    }

    private func start(_ exchange: HTTPExchange) throws(ClientError) {
        var request = Array("\(exchange.method.rawValue) \(endpoint.pathPrefix)\(exchange.target) HTTP/1.1\r\n".utf8) + headers
        if case .watch = exchange.shape {
            request += Array("Accept: application/x-ndjson\r\n".utf8)
        } else {
            request += Array("Accept: application/json\r\n".utf8)
        }
        if let body = exchange.body {
            request += Array("Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        } else {
            request += Array("\r\n".utf8)
        }
        // A kept-alive connection the server has since closed (its idle timeout) is replaced;
        // so is one whose write fails, once.
        if let current = connection, current.isStale {
            current.shutDown()
            connection = nil
        }
        var attempts = 0
        while true {
            attempts += 1
            let current = try connect()
            if current.write(request) { break }
            current.shutDown()
            connection = nil
            if attempts == 2 {
                broken = true
                throw .connectionClosed
            }
        }
        running = Running(exchange: exchange)
    }

    private func connect() throws(ClientError) -> HTTPConnection {
        if let connection { return connection }
        do {
            let fresh = try HTTPConnection(host: endpoint.host, port: endpoint.port, tls: endpoint.isTLS, caFile: caFile, timeout: connectTimeout)
            connection = fresh
            return fresh
        } catch {
            throw .unreachable(path: address, reason: error.description)
        }
    }

    private func emit(_ bytes: [UInt8]) {
        var end = bytes.count
        if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
        lines.append(String(decoding: bytes[..<end], as: UTF8.self))
    }

    /// Reads what the running exchange's response has sent (waiting up to `milliseconds`) and
    /// turns it into reply lines.
    private func collect(waiting milliseconds: Int32) throws(ClientError) {
        guard var current = running, let connection else { return }
        let bytes: [UInt8]?
        do { bytes = try connection.read(waiting: milliseconds) } catch {
            return try lost(current, error.description)
        }
        guard let bytes else { return }
        if bytes.isEmpty {
            guard current.parser.endsAtClose else { return try lost(current, "the server closed the connection") }
            current.parser.connectionEnded()
        } else {
            do { current.body += try current.parser.feed(bytes[...]) } catch {
                return try lost(current, error.description)
            }
        }
        let finished = current.parser.isFinished
        if finished && (current.parser.closes || bytes.isEmpty) {
            connection.shutDown()
            self.connection = nil
        }
        if case .watch = current.exchange.shape, current.parser.status == 200 {
            // Whole lines as they come: `{"event":…}` or, last, `{"error":…}`.
            var start = 0
            for (i, byte) in current.body.enumerated() where byte == 0x0A {
                if streamLine(current.body[start..<i], of: current.exchange) { current.endedWithError = true }
                start = i + 1
            }
            current.body.removeFirst(start)
            running = finished ? nil : current
            if finished && !current.endedWithError {
                broken = true
                throw .connectionClosed
            }
            return
        }
        guard finished else {
            running = current
            return
        }
        running = nil
        try finish(current.exchange, status: current.parser.status ?? 0, body: current.body)
    }

    /// The connection failed while `current` was running: before any answer, the daemon is
    /// unreachable; after one began, the connection closed under it.
    private func lost(_ current: Running, _ reason: String) throws(ClientError) {
        running = nil
        connection?.shutDown()
        connection = nil
        broken = true
        if current.parser.status == nil { throw .unreachable(path: address, reason: reason) }
        throw .connectionClosed
    }

    /// Turns one line of the NDJSON stream into its reply line; true for routerd's closing
    /// `{"error":…}`.
    private func streamLine(_ bytes: ArraySlice<UInt8>, of exchange: HTTPExchange) -> Bool {
        guard let value = try? bytes.withUnsafeBufferPointer({ try JSONParser.parse($0) }) else {
            emit(Array(bytes)) // the reader reports it as a malformed reply
            return false
        }
        if let event = value["event"] {
            emit(Reply.event(exchange.id, event: event))
        } else if let error = value["error"] {
            emit(Self.failureLine(exchange.id, error))
            return true
        }
        return false
    }

    /// The reply lines for a finished response.
    private func finish(_ exchange: HTTPExchange, status: Int, body: [UInt8]) throws(ClientError) {
        let value: JSONValue? = body.isEmpty ? .object([]) : body.withUnsafeBufferPointer { raw -> JSONValue? in try? JSONParser.parse(raw) }
        guard (200..<300).contains(status) else {
            if let error = value?["error"], error["code"]?.stringValue != nil {
                emit(Self.failureLine(exchange.id, error))
            } else {
                emit(Reply.failure(exchange.id, Self.statusError(status, body: body, from: address)))
            }
            return
        }
        guard let value else {
            throw .malformedReply(String(decoding: body.prefix(200), as: UTF8.self))
        }
        switch exchange.shape {
        case .single, .watch:
            emit(Reply.success(exchange.id, revision: value["revision"]?.integerValue.map { UInt64(max(0, $0)) } ?? 0, result: value))
        case .hello:
            emit(Reply.success(exchange.id, revision: 0, result: Self.greeting(fromStats: value)))
        case .listPage(_, _, let count):
            guard case .array(let routes)? = value["routes"] else {
                throw .malformedReply(String(decoding: body.prefix(200), as: UTF8.self))
            }
            for route in routes { emit(Reply.item(exchange.id, route: route)) }
            let next = value["next"]?.stringValue
            if let page = exchange.nextPage(after: next, received: routes.count) {
                try start(page)
                return
            }
            let revision: JSONValue = value["revision"] ?? .number(0)
            let nextValue: JSONValue = next.map { JSONValue.string($0) } ?? .null
            let result = JSONValue.object([("count", .number(count + routes.count)), ("revision", revision), ("next", nextValue)])
            emit(Reply.success(exchange.id, revision: revision.integerValue.map { UInt64(max(0, $0)) } ?? 0, result: result))
        }
    }

    // MARK: Helpers

    static func failureLine(_ id: RequestID?, _ error: JSONValue) -> [UInt8] {
        Reply.line(.object([("id", id?.json ?? .null), ("ok", .bool(false)), ("error", error)]))
    }

    /// A refusal for a response that did not carry the API's error object (a proxy's page, say).
    static func statusError(_ status: Int, body: [UInt8], from address: String) -> ProtocolError {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let said = text.isEmpty ? "" : ": " + text
        switch status {
        case 401: return ProtocolError(.unauthorized, "HTTP 401 from \(address): no or a wrong token\(said)")
        case 403: return ProtocolError(.forbidden, "HTTP 403 from \(address)\(said)")
        case 413: return ProtocolError(.tooLarge, "HTTP 413 from \(address)\(said)")
        case 502, 503, 504: return ProtocolError(.unavailable, "HTTP \(status) from \(address)\(said)")
        default: return ProtocolError(.internal, "HTTP \(status) from \(address), not an answer of routerd's API (is the URL the one routerd --http serves?)\(said)")
        }
    }

    /// The greeting made of `GET /stats`: who the daemon is and where its revisions stand.
    static func greeting(fromStats stats: JSONValue) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("server", stats["server"] ?? .string("routerd")),
            ("version", stats["version"] ?? .string("?")),
            ("protocol", .number(1)),
            ("instance", stats["instance"] ?? .string("")),
            ("revision", stats["revision"] ?? .number(0)),
        ]
        if let maximum = stats["max_line"] { members.append(("max_line", maximum)) }
        if let store = stats["store"] { members.append(("store", store)) }
        return .object(members)
    }

    /// Reads a bearer token: the first line of `path`, which must not be readable by group or
    /// others (it is a password).
    public static func readToken(from path: String) throws(ConfigurationError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigurationError("cannot read the token file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigurationError("the token file \(path) is readable by group or others (mode 0\(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let file = fopen(path, "r") else {
            throw ConfigurationError("cannot read the token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        while bytes.count < 65536 {
            let c = getc(file)
            if c == EOF || c == 0x0A { break }
            bytes.append(UInt8(c))
        }
        guard let token = token(fromText: String(decoding: bytes, as: UTF8.self)) else {
            throw ConfigurationError("the token file \(path) is empty: its first line is the token")
        }
        return token
    }

    /// A token as written in a file or the environment, without surrounding white space; nil
    /// when nothing is left.
    public static func token(fromText text: String) -> String? {
        let trimmed = text.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }.reversed()
        return trimmed.isEmpty ? nil : String(decoding: Array(trimmed), as: UTF8.self)
    }
}

/// A URL, token file or certificate file routerctl cannot use; says what is wrong with it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
