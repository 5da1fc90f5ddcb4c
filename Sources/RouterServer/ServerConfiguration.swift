import DomainRouter

/// How a `RouterServer` listens and what it allows.
public struct ServerConfiguration: Sendable {
    /// The Unix socket path (at most 107 bytes).
    public var socketPath: String
    /// The socket file's permission bits (default 0660).
    public var socketMode: UInt32
    /// The socket file's group, by name; nil keeps the daemon's.
    public var socketGroup: String?
    /// Members of this group are admins (besides root and the daemon's own user).
    public var adminGroup: String?
    /// The longest request line, in bytes (default 64 KiB).
    public var maximumLineLength: Int
    /// The most connections served at once; more are refused with `unavailable`.
    public var maximumConnections: Int
    /// How long a closed connection's session routes outlive it (default 5 s).
    public var grace: Duration
    /// A watcher whose unread backlog stays above this many events for 2 s (or passes 16
    /// times it) is sent `slow_consumer` and disconnected.
    public var watcherBuffer: Int
    /// A watcher whose unread backlog passes this many bytes is cut at once, whatever the
    /// count of events: the memory a watcher that does not read can hold (default 32 MiB).
    public var watcherBufferBytes: Int
    /// The route table's rules.
    public var table: RouteTableConfiguration
    /// Event loop threads serving connections (nil: one per core). Changes to the table are
    /// serialized, so a write-heavy daemon on few cores may do better with fewer threads.
    public var threads: Int?
    /// Whether every change is a line in the log at `notice` (add, update, delete, expire, with
    /// who and from where): the audit trail. Off (`--audit-log none`) when `--db`'s change
    /// history records them anyway and the log's growth matters more.
    public var auditChanges: Bool = true

    public init(
        socketPath: String,
        socketMode: UInt32 = 0o660,
        socketGroup: String? = nil,
        adminGroup: String? = nil,
        maximumLineLength: Int = 64 * 1024,
        maximumConnections: Int = 4096,
        grace: Duration = .seconds(5),
        watcherBuffer: Int = 4096,
        watcherBufferBytes: Int = 32 << 20,
        table: RouteTableConfiguration = RouteTableConfiguration(),
        threads: Int? = nil
    ) {
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.adminGroup = adminGroup
        self.maximumLineLength = maximumLineLength
        self.maximumConnections = maximumConnections
        self.grace = grace
        self.watcherBuffer = watcherBuffer
        self.watcherBufferBytes = watcherBufferBytes
        self.table = table
        self.threads = threads
    }
}

/// Why the server could not start, in words that say what to change.
///
/// A struct over an internal kind, so that new reasons do not break code that embeds the
/// server.
public struct ServerError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Hashable, Sendable {
        case socketPathTooLong(String)
        case alreadyRunning(String)
        case socketPathInUse(String)
        case cannotCreateDirectory(String, String)
        case unknownGroup(String)
        case cannotBind(String, String)
    }

    package let kind: Kind

    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// The socket path is over the 107 bytes a Unix socket address holds.
    public static func socketPathTooLong(_ path: String) -> ServerError { ServerError(.socketPathTooLong(path)) }
    /// Another routerd answers on the socket.
    public static func alreadyRunning(_ path: String) -> ServerError { ServerError(.alreadyRunning(path)) }
    /// Something other than a socket is at the path.
    public static func socketPathInUse(_ path: String) -> ServerError { ServerError(.socketPathInUse(path)) }
    /// The socket's folder could not be made.
    public static func cannotCreateDirectory(_ path: String, _ why: String) -> ServerError { ServerError(.cannotCreateDirectory(path, why)) }
    /// A group named in the configuration does not exist.
    public static func unknownGroup(_ name: String) -> ServerError { ServerError(.unknownGroup(name)) }
    /// The socket could not be bound or given its mode or group.
    public static func cannotBind(_ path: String, _ why: String) -> ServerError { ServerError(.cannotBind(path, why)) }

    public var description: String {
        switch kind {
        case .socketPathTooLong(let path):
            return "socket path \(path) is longer than 107 bytes; choose a shorter --socket"
        case .alreadyRunning(let path):
            return "another routerd is already answering on \(path); stop it or choose another --socket"
        case .socketPathInUse(let path):
            return "\(path) exists and is not a socket; remove it or choose another --socket"
        case .cannotCreateDirectory(let path, let why):
            return "cannot create the socket's directory \(path): \(why)"
        case .unknownGroup(let name):
            return "no such group '\(name)'"
        case .cannotBind(let path, let why):
            return "cannot listen on \(path): \(why)"
        }
    }
}
