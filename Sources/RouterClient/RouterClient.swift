import RouterProtocol

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
    /// Whether the daemon took this connection for an admin's (one that sees every route's
    /// target and labels).
    public var isAdmin = false

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
        isAdmin = hello["principal"]?["admin"] == .bool(true)
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

/// A connection to `routerd`, speaking protocol v1 with plain blocking calls: no event loop to
/// start, so a one-shot command costs a connect and a round trip. Over the Unix socket
/// (`init(path:timeout:)`) or any other `RouterTransport` (`init(transport:timeout:)`).
///
/// Requests may be pipelined (`send` several, then `read` the replies in order). One client is
/// one connection, and so one session: routes added with `session` live as long as it does.
/// Not for use from several threads at once; open one client per thread.
public final class RouterClient {
    /// Where this client is connected: the socket path, or the transport's address.
    public var path: String { transport.address }
    /// How long to wait for each reply line; nil waits for ever.
    public var timeout: Duration?
    /// Checked while waiting; when it returns true the wait ends with `ClientError.interrupted`.
    public var isInterrupted: () -> Bool = { false }

    private let transport: any RouterTransport
    private var greeted: Greeting?
    private var nextID: Int64 = 1

    /// What the daemon says of itself and this connection: sent first on the socket, asked for
    /// with a `hello` request (once) on transports whose daemon does not greet first.
    public var greeting: Greeting {
        get throws(ClientError) {
            if let greeted { return greeted }
            let result = try call("hello").result
            let greeting = try Greeting(.object([("hello", result)]))
            greeted = greeting
            return greeting
        }
    }

    /// Connects to routerd's Unix socket and reads the greeting.
    public convenience init(path: String = DefaultSocket.path, timeout: Duration? = .seconds(10)) throws(ClientError) {
        try self.init(transport: SocketTransport(path: path), timeout: timeout)
    }

    /// A client over `transport`; reads the greeting now when the daemon greets first.
    public init(transport: any RouterTransport, timeout: Duration? = .seconds(10)) throws(ClientError) {
        self.transport = transport
        self.timeout = timeout
        guard transport.greetsFirst else { return }
        do throws(ClientError) {
            let line = try readValue()
            if line["ok"] == .bool(false), let error = line["error"] {
                throw ClientError.daemon(DaemonError(object: error))
            }
            greeted = try Greeting(line)
        } catch {
            transport.close()
            throw error
        }
    }

    deinit {
        transport.close()
    }

    /// Closes the connection (ending its session, whose routes go after the daemon's grace).
    public func close() {
        transport.close()
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
            // A line routerd could not read is refused without an id (it found none): in a
            // call, the one request in flight is this one.
            if case .failure(.null, let error) = line { throw .daemon(error) }
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

    /// Reads and drops lines up to the final line of the last request sent, not heeding
    /// `isInterrupted`: after a `call` was interrupted (Ctrl-C during a long `list`), the
    /// connection is in step again and takes further requests, instead of being given up with
    /// whatever its session holds.
    public func discardUntilLastReply() throws(ClientError) {
        let last = JSONValue.number(String(nextID - 1))
        let saved = isInterrupted
        isInterrupted = { false }
        defer { isInterrupted = saved }
        while true {
            let line = try read()
            if line.id == last, line.isFinal { return }
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
        try transport.write(bytes)
    }

    /// Reads the next line from the daemon.
    public func read() throws(ClientError) -> ReplyLine {
        let text = try readText()
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw .malformedReply(text) }
        return try ReplyLine(value, text: text)
    }

    /// Reads the next line, skipping the work of reading a success's `result` when the caller
    /// has no use for it: a line `{"id":N,"ok":true,…` is `.success` with an empty result
    /// and revision 0, read from its first bytes alone (routerd writes `id` and `ok` first).
    /// Anything else is read in full, as `read` does. For pipelined writers (`batch`) that
    /// print nothing for a success.
    public func readIgnoringResults() throws(ClientError) -> ReplyLine {
        let text = try readText()
        if let id = Self.successID(text) { return .success(id: .number(id), revision: 0, result: .object([])) }
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw .malformedReply(text) }
        return try ReplyLine(value, text: text)
    }

    /// The id of a line that starts `{"id":DIGITS,"ok":true,`, or nil.
    static func successID(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            // {"id":
            let open: [UInt8] = [0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A]
            // ,"ok":true,
            let ok: [UInt8] = [0x2C, 0x22, 0x6F, 0x6B, 0x22, 0x3A, 0x74, 0x72, 0x75, 0x65, 0x2C]
            guard bytes.count > open.count + ok.count, bytes.starts(with: open) else { return nil }
            var i = open.count
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            let digits = i - open.count
            guard digits > 0, digits <= 18, bytes[open.count] != 0x30 || digits == 1,
                  bytes.count - i >= ok.count, bytes[i..<(i + ok.count)].elementsEqual(ok) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[open.count..<i]), as: UTF8.self)
        }
    }

    /// False once the daemon has closed the connection (checked without blocking), so that
    /// a long-lived client such as a shell can reconnect before sending its next request.
    public var isAlive: Bool { transport.isAlive }

    /// Whether a complete line is already buffered (so `read` will not block).
    public var hasBufferedLine: Bool { transport.hasBufferedLine }

    // MARK: Reading lines

    private func readValue() throws(ClientError) -> JSONValue {
        let text = try readText()
        do { return try JSONParser.parse(text) } catch { throw .malformedReply(text) }
    }

    private func readText() throws(ClientError) -> String {
        try transport.readLine(timeout: timeout, isInterrupted: isInterrupted)
    }
}
