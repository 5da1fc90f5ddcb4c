#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterProtocol

// The class has methods named like these calls; these spell out the C functions.
#if canImport(Glibc)
private func systemClose(_ fd: Int32) { _ = Glibc.close(fd) }
private func systemSend(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL)) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Glibc.recv(fd, p, n, 0) }
#else
private func systemClose(_ fd: Int32) { _ = Darwin.close(fd) }
private func systemSend(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Darwin.send(fd, p, n, 0) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.recv(fd, p, n, 0) }
#endif

/// The daemon's greeting: who it is, where its revisions stand, and this connection's session.
public struct Greeting: Hashable, Sendable {
    /// The server's name (`routerd`).
    public var server: String
    /// The server's version.
    public var version: String
    /// Changes on every daemon start; revisions from another instance mean nothing here.
    public var instance: String
    /// The table's revision when the connection was made.
    public var revision: UInt64
    /// The connection's session id.
    public var sessionID: String
    /// Send as `hello`'s `resume` within the grace period to keep this session's routes.
    public var resumeToken: String
    /// The daemon's longest accepted line (`--max-line`), when it says.
    public var maximumLine: Int?

    static let none = Greeting(server: "", version: "", instance: "", revision: 0, sessionID: "", resumeToken: "")

    private init(server: String, version: String, instance: String, revision: UInt64, sessionID: String, resumeToken: String) {
        self.server = server
        self.version = version
        self.instance = instance
        self.revision = revision
        self.sessionID = sessionID
        self.resumeToken = resumeToken
    }

    init(_ value: JSONValue) throws(ClientError) {
        guard let hello = value["hello"], let instance = hello["instance"]?.stringValue else {
            throw .malformedReply(JSONWriter.encode(value))
        }
        server = hello["server"]?.stringValue ?? "routerd"
        version = hello["version"]?.stringValue ?? "?"
        self.instance = instance
        revision = hello["revision"]?.integerValue.map { UInt64(max(0, $0)) } ?? 0
        sessionID = hello["session"]?["id"]?.stringValue ?? ""
        resumeToken = hello["session"]?["resume_token"]?.stringValue ?? ""
        maximumLine = hello["max_line"]?.integerValue.map { Int($0) }
    }
}

/// One line from the daemon.
public enum ReplyLine: Sendable {
    /// A final success: the request's id, the revision after it and its result.
    case success(id: JSONValue, revision: UInt64, result: JSONValue)
    /// A final failure.
    case failure(id: JSONValue, error: DaemonError)
    /// One route of a streamed `list`.
    case route(id: JSONValue, route: JSONValue)
    /// One event of a `watch`.
    case event(id: JSONValue, event: JSONValue)

    /// The id of the request the line belongs to.
    public var id: JSONValue {
        switch self {
        case .success(let id, _, _), .failure(let id, _), .route(let id, _), .event(let id, _): return id
        }
    }

    /// Whether the line ends its request (a success or a failure, not an item or event).
    public var isFinal: Bool {
        switch self {
        case .success, .failure: return true
        case .route, .event: return false
        }
    }

    init(_ value: JSONValue, text: @autoclosure () -> String) throws(ClientError) {
        let id = value["id"] ?? .null
        if let route = value["route"], value["ok"] == nil {
            self = .route(id: id, route: route)
        } else if let event = value["event"] {
            self = .event(id: id, event: event)
        } else if value["ok"] == .bool(true) {
            let revision = value["revision"]?.integerValue.map { UInt64(max(0, $0)) } ?? 0
            self = .success(id: id, revision: revision, result: value["result"] ?? .object([]))
        } else if value["ok"] == .bool(false), let error = value["error"] {
            self = .failure(id: id, error: DaemonError(object: error))
        } else {
            throw .malformedReply(text())
        }
    }
}

/// A connection to `routerd` over its Unix socket, speaking protocol v1 with plain blocking
/// calls: no event loop to start, so a one-shot command costs a connect and a round trip.
///
/// Requests may be pipelined (`send` several, then `read` the replies in order). One client is
/// one connection, and so one session: routes added with `session` live as long as it does.
/// Not for use from several threads at once; open one client per thread.
public final class RouterClient {
    /// The socket path this client connected to.
    public let path: String
    /// What the daemon said on connect.
    public private(set) var greeting = Greeting.none
    /// How long to wait for each reply line; nil waits for ever.
    public var timeout: Duration?
    /// Checked while waiting; when it returns true the wait ends with `ClientError.interrupted`.
    public var isInterrupted: () -> Bool = { false }

    private var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var nextID: Int64 = 1

    /// Why a connect to `path` was refused, by what is there: a directory or a regular file is
    /// named as such; a socket nothing listens on is a stale one.
    static func refusedReason(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "connection refused" }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "it is a directory, not a socket (pass the socket file inside it, e.g. \(path)/routerd.sock)"
        case S_IFREG: return "it is a regular file, not a socket"
        case S_IFSOCK: return "connection refused: nothing listens on this socket file (a stale one from a routerd that stopped); start routerd again"
        default: return "it is not a socket"
        }
    }

    /// Connects and reads the greeting.
    public init(path: String = DefaultSocket.path, timeout: Duration? = .seconds(10)) throws(ClientError) {
        self.path = path
        self.timeout = timeout
        fd = UnixSocketAddress.connect(path)
        if fd < 0 {
            let code = errno
            switch code {
            case EACCES, EPERM: throw .permissionDenied(path: path)
            case ENOENT: throw .unreachable(path: path, reason: "no such socket; is routerd running? (start it with `routerd`, or pass --socket / set ROUTER_SOCKET)")
            case ECONNREFUSED: throw .unreachable(path: path, reason: Self.refusedReason(path))
            case ENAMETOOLONG: throw .unreachable(path: path, reason: "the path is longer than \(UnixSocketAddress.maximumPathLength) bytes")
            default: throw .unreachable(path: path, reason: String(cString: strerror(code)) + "; is routerd running?")
            }
        }
        do throws(ClientError) {
            let line = try readValue()
            if line["ok"] == .bool(false), let error = line["error"] {
                throw ClientError.daemon(DaemonError(object: error))
            }
            greeting = try Greeting(line)
        } catch {
            systemClose(fd)
            throw error
        }
    }

    deinit {
        if fd >= 0 { systemClose(fd) }
    }

    /// Closes the connection (ending its session, whose routes go after the daemon's grace).
    public func close() {
        if fd >= 0 { systemClose(fd) }
        fd = -1
    }

    // MARK: Requests

    /// Sends one request and waits for its final line; a refusal throws `.daemon`. Stream items
    /// (from `list`) are handed to `onItem`; returning false from it stops reading early and
    /// leaves the connection unusable for further requests.
    @discardableResult
    public func call(_ op: String, _ arguments: [(String, JSONValue)] = [],
                     onItem: ((ReplyLine) throws(ClientError) -> Bool)? = nil) throws(ClientError) -> (revision: UInt64, result: JSONValue) {
        let id = try send(op, arguments)
        while true {
            let line = try read()
            guard line.id == .number(String(id)) else { continue }
            switch line {
            case .success(_, let revision, let result):
                return (revision, result)
            case .failure(_, let error):
                throw .daemon(error)
            case .route, .event:
                if let onItem, try !onItem(line) { throw .interrupted }
            }
        }
    }

    /// Sends a request without waiting; returns the id it was given.
    @discardableResult
    public func send(_ op: String, _ arguments: [(String, JSONValue)] = []) throws(ClientError) -> Int64 {
        let id = nextID
        nextID += 1
        var writer = JSONWriter(capacity: 128)
        writer.write(.object([("id", .number(String(id))), ("op", .string(op))] + arguments))
        try write(writer.bytes + [0x0A])
        return id
    }

    /// Sends lines as they are (each must end in `\n`), for pipelining prepared requests.
    public func write(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { systemSend(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connectionClosed
            }
            offset += n
        }
    }

    /// Reads the next line from the daemon.
    public func read() throws(ClientError) -> ReplyLine {
        let text = try readText()
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw .malformedReply(text) }
        return try ReplyLine(value, text: text)
    }

    /// False once the daemon has closed the connection (checked without blocking), so that
    /// a long-lived client such as a shell can reconnect before sending its next request.
    public var isAlive: Bool {
        guard fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return true }
        if p.revents & Int16(POLLHUP | POLLERR) != 0 { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) != 0
    }

    /// Whether a complete line is already buffered (so `read` will not block).
    public var hasBufferedLine: Bool {
        buffer[start...].contains(0x0A)
    }

    // MARK: Reading lines

    private func readValue() throws(ClientError) -> JSONValue {
        let text = try readText()
        do { return try JSONParser.parse(text) } catch { throw .malformedReply(text) }
    }

    private func readText() throws(ClientError) -> String {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let text = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
                return text
            }
            if start > 65536 { buffer.removeFirst(start); start = 0 }
            try waitReadable(until: deadline)
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { systemRecv(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .connectionClosed
            }
            if n == 0 { throw .connectionClosed }
            buffer += chunk[..<n]
        }
    }

    private func waitReadable(until deadline: ContinuousClock.Instant?) throws(ClientError) {
        while true {
            if isInterrupted() { throw .interrupted }
            var wait: Int32 = 250
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { throw .timedOut(after: timeout ?? .zero) }
                let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
                wait = Int32(min(Int64(wait), ms))
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, wait)
            if r > 0 { return }
            if r < 0 && errno != EINTR { throw .connectionClosed }
        }
    }
}
