import DomainRouter
import Logging
import NIOCore
import NIOPosix
import RouterEngine
import RouterProtocol
import ServiceLifecycle
import Synchronization

/// The daemon's engine: a route table served over a Unix socket in protocol v1.
///
/// Each connection is a session; requests on it are answered in order, pipelined; watch
/// events interleave. The server and its `sweeper` are `Service`s: in a `ServiceGroup` (as
/// routerd runs them) the group owns the signals and graceful shutdown. Without one, `start()`
/// binds the socket and starts the sweeper, and `shutdown()` stops accepting, ends every watch
/// with `unavailable`, closes the connections and removes the socket file.
public final class RouterServer: Service, Sendable {
    public static let version = ProductVersion.current

    public let configuration: ServerConfiguration
    public let table: RouteTable
    /// The operations every front end calls, over the store that decides changes.
    package let executor: RequestExecutor
    /// The revision sequence's id at start: drawn at each start in memory, the store's id
    /// with a shared store (see `RequestExecutor.instance`, which follows a store's reset).
    public let instance: String
    let logger: Logger
    let principals: Principals
    /// The event loops: NIO's shared ones (which routerd also makes the loops its tasks run
    /// on, and which its stores' connections use), or a group of its own of `threads` loops.
    let group: MultiThreadedEventLoopGroup
    /// Whether `group` is this server's own, shut down when it stops.
    private let ownsGroup: Bool
    /// Runs bulk loads' runs of adds off the event loops (see ConnectionHandler's adds).
    let tableWriter = NIOThreadPool(numberOfThreads: 1)
    let startedAt = ContinuousClock.now
    /// Removes expired routes: a service of its own beside the server.
    public let sweeper: ExpirySweeper
    /// Gives freed memory back to the system.
    let trimmer: MemoryTrimmer
    private let state = Mutex(State())
    /// HTTP connections open now: the HTTP front end counts them here, so that
    /// `--max-connections` bounds both front ends together.
    private let httpConnections = Atomic<Int>(0)

    /// What a resume token stands for: the session it can take over, for which uid, until when.
    struct ResumeTicket {
        var session: UInt64
        var uid: UInt32
        /// When the closed session's grace runs out; nil while its connection is open.
        var expires: ContinuousClock.Instant?
    }

    struct State {
        var serverChannel: Channel?
        var socketInode: UInt64?
        var connections: [UInt64: Connection] = [:]
        var nextConnection: UInt64 = 1
        var resumeTickets: [String: ResumeTicket] = [:]
        var watchers = 0
        var audit: SubscriptionHandle?
        var stopping = false
        /// Binding the socket failed.
        var failed = false
        /// Callers of `waitUntilListening` before the socket answered.
        var listenWaiters: [CheckedContinuation<Bool, Never>] = []
    }

    /// What the server keeps of a live connection, to end it on shutdown.
    struct Connection: Sendable {
        var channel: Channel
        var shutdown: @Sendable () -> Void
    }

    /// Creates a server; throws when the configuration is unusable (a bad domain, an unknown group).
    public convenience init(configuration: ServerConfiguration, logger: Logger = Logger(label: "routerd"),
                            clock: any RouteClock = SystemClock()) throws {
        let table = try Self.makeTable(configuration, clock: clock)
        try self.init(configuration: configuration, store: MemoryStore(table: table), logger: logger)
    }

    /// The table a server of `configuration` serves: for a store to be made around before
    /// the server (`init(configuration:store:logger:)`).
    package static func makeTable(_ configuration: ServerConfiguration,
                                  clock: any RouteClock = SystemClock()) throws -> RouteTable {
        var tableConfiguration = configuration.table
        tableConfiguration.subscriberBuffer = configuration.watcherBuffer
        return try RouteTable(configuration: tableConfiguration, clock: clock)
    }

    /// A server over `store` (made around a table from `makeTable`), which decides changes.
    /// The revisions' id (the greeting's `instance`) is the store's when it has one.
    package init(configuration: ServerConfiguration, store: any RouteStore,
                 logger: Logger = Logger(label: "routerd")) throws {
        self.configuration = configuration
        table = store.table
        principals = try Principals(adminGroup: configuration.adminGroup)
        instance = store.status.id ?? ProcessFacts.sequenceID()
        executor = RequestExecutor(store: store, instance: instance)
        state.withLock { $0.nextConnection = store.sessionBase + 1 }
        self.logger = logger
        let group = configuration.threads.map { MultiThreadedEventLoopGroup(numberOfThreads: max(1, $0)) } ?? .singleton
        self.group = group
        ownsGroup = configuration.threads != nil
        let trimmer = MemoryTrimmer()
        self.trimmer = trimmer
        sweeper = ExpirySweeper(executor: executor, loop: group.next(), released: { trimmer.freed() })
    }

    /// Binds the socket and starts serving, and starts the sweeper: for running the server
    /// without a `ServiceGroup`. After a failure the server is spent.
    public func start() async throws {
        try await listen()
        sweeper.start()
    }

    /// The server as a `Service`: binds the socket, serves until graceful shutdown, then shuts
    /// down (answering what was read). Run `sweeper` beside it.
    public func run() async throws {
        try await listen()
        try? await gracefulShutdown()
        logger.notice("shutting down")
        await shutdown()
    }

    /// Binds the socket and starts serving. After a failure the server is spent.
    func listen() async throws {
        do {
            try await bindAndServe()
        } catch {
            settleListening(false)
            // The sweeper (a service started beside this one) must not schedule on the loops
            // once they are gone.
            sweeper.retire()
            try? await tableWriter.shutdownGracefully()
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
    }

    private func bindAndServe() async throws {
        let path = configuration.socketPath
        try SocketFile.prepare(path)
        tableWriter.start()
        let maximumLine = configuration.maximumLineLength
        let bootstrap = ServerBootstrap(group: group)
            // A burst of --max-connections connects must all get in (the kernel caps the
            // backlog at net.core.somaxconn); those over the limit are answered `unavailable`.
            .serverChannelOption(.backlog, value: Int32(clamping: max(configuration.maximumConnections, 128)))
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = self.nextConnectionID()
                    let handler = ConnectionHandler(server: self, id: id)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: maximumLine)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: Channel
        do {
            channel = try await SocketFile.withUmask(for: configuration.socketMode) {
                bootstrap.bind(unixDomainSocketPath: path)
            }.get()
        } catch {
            throw ServerError.cannotBind(path, "\(error)")
        }
        try SocketFile.finish(path, mode: configuration.socketMode, group: configuration.socketGroup)
        let table = self.table
        // The audit trail's removals that no request made: TTLs and sessions' grace running out.
        let auditLogger = logger
        let audits = configuration.auditChanges
        let audit = !audits ? nil : try? table.subscribe { event in
            if event.kind == .expire, let route = event.route {
                auditLogger.notice("expire", metadata: [
                    "key": "\(route.key)", "tunnel": "\(route.tunnel)", "owner": "\(route.owner)",
                    "revision": "\(event.revision)",
                ])
            }
            return true
        }
        state.withLock {
            $0.audit = audit
            $0.serverChannel = channel
            $0.socketInode = SocketFile.inode(path)
        }
        logger.notice("routerd \(Self.version) listening on \(path)", metadata: [
            "socket": "\(path)", "domains": "\(table.configuration.baseDomains.joined(separator: ","))",
            "instance": "\(instance)",
        ])
        settleListening(true)
    }

    /// Stops accepting, ends watches with `unavailable`, closes connections, removes the socket.
    public func shutdown() async {
        let (channel, connections, inode, audit) = state.withLock { s in
            s.stopping = true
            return (s.serverChannel, Array(s.connections.values), s.socketInode, s.audit)
        }
        settleListening(false)
        audit?.cancel()
        try? await channel?.close().get()
        for connection in connections { connection.shutdown() }
        for connection in connections { try? await connection.channel.closeFuture.get() }
        sweeper.stop()
        SocketFile.remove(configuration.socketPath, inode: inode)
        try? await tableWriter.shutdownGracefully()
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("stopped")
    }

    /// Waits until the socket answers (true), or the server failed to start or stopped first
    /// (false): when a service manager may be told the daemon is ready.
    public func waitUntilListening() async -> Bool {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool? in
                if s.serverChannel != nil { return true }
                if s.stopping || s.failed { return false }
                s.listenWaiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Answers everyone waiting in `waitUntilListening`.
    func settleListening(_ listening: Bool) {
        let waiters = state.withLock { s in
            if !listening { s.failed = true }
            defer { s.listenWaiters = [] }
            return s.listenWaiters
        }
        for waiter in waiters { waiter.resume(returning: listening) }
    }

    /// Waits until the listening socket closes.
    public func waitUntilClosed() async {
        let channel = state.withLock { $0.serverChannel }
        try? await channel?.closeFuture.get()
    }

    // MARK: Connections and sessions

    func nextConnectionID() -> UInt64 {
        state.withLock { s in
            defer { s.nextConnection += 1 }
            return s.nextConnection
        }
    }

    /// Registers a connection; false when the server is full or stopping.
    func connectionOpened(_ id: UInt64, _ connection: Connection, uid: UInt32, token: String) -> Bool {
        state.withLock { s in
            guard !s.stopping, s.connections.count + httpConnections.load(ordering: .relaxed) < configuration.maximumConnections else { return false }
            s.connections[id] = connection
            s.resumeTickets[token] = ResumeTicket(session: id, uid: uid, expires: nil)
            return true
        }
    }

    func connectionClosed(_ id: UInt64, token: String, uid: UInt32) {
        let grace = configuration.grace
        if executor.store.sharesSessions { executor.store.offerSession(token: token, session: id, uid: uid, grace: grace) }
        state.withLock { s in
            s.connections[id] = nil
            if s.resumeTickets[token] != nil { s.resumeTickets[token]!.expires = .now + grace }
            let now = ContinuousClock.now
            s.resumeTickets = s.resumeTickets.filter { $0.value.expires.map { $0 > now } ?? true }
        }
        executor.endSession(id, grace: grace)
    }

    /// The closed session a resume token names, if the token is still good and `uid`'s; the
    /// token is spent.
    func takeOverSession(token: String, uid: UInt32) throws(ProtocolError) -> UInt64 {
        try state.withLock { (s: inout State) throws(ProtocolError) -> UInt64 in
            guard let ticket = s.resumeTickets[token], let expires = ticket.expires, expires > .now else {
                throw ProtocolError(.notFound, "resume token unknown, still in use, or past its grace period; its routes are gone")
            }
            guard ticket.uid == uid else {
                throw ProtocolError(.forbidden, "that session belongs to another user")
            }
            s.resumeTickets[token] = nil
            return ticket.session
        }
    }

    /// Megabytes went back to malloc at once (a slow consumer's backlog dropped).
    /// Megabytes were freed at once (a slow consumer's backlog): returns them to the system soon.
    package func memoryFreed() { trimmer.freed() }

    /// A watch started streaming, or ended, on any front end (`stats`, `router_watchers`).
    package func watcherStarted() { state.withLock { $0.watchers += 1 } }
    package func watcherEnded() { state.withLock { $0.watchers -= 1 } }

    /// Open socket connections and watches streaming on them.
    package var counts: (connections: Int, watchers: Int) {
        state.withLock { ($0.connections.count, $0.watchers) }
    }

    /// An HTTP connection opened: whether it is within `--max-connections` (socket and HTTP
    /// together). One admitted must be released with `httpConnectionClosed()`.
    package func httpConnectionOpened() -> Bool {
        let open = httpConnections.wrappingAdd(1, ordering: .relaxed).newValue
        let socket = state.withLock { $0.stopping ? Int.max / 2 : $0.connections.count }
        guard socket + open <= configuration.maximumConnections else {
            httpConnections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// An admitted HTTP connection closed.
    package func httpConnectionClosed() {
        httpConnections.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Open HTTP connections.
    package var httpConnectionCount: Int { httpConnections.load(ordering: .relaxed) }

    var uptime: Duration { ContinuousClock.now - startedAt }

    /// Resident memory of this process in bytes (what `stats` reports as `rss_bytes`).
    public static var residentMemory: Int { ProcessFacts.residentBytes() }
}
