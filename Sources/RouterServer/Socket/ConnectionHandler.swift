#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import DomainRouter
import Logging
import NIOCore
import RouterEngine
import RouterProtocol

/// One socket connection: the transport in front of the `RequestExecutor`. It reads the peer's
/// credentials, frames lines, parses requests into typed ones, calls the executor, and writes
/// replies and watch events back in order; `ConnectionState` says when a frame may be handled
/// and what follows each event. Runs on the channel's event loop.
///
/// The facets live in `ConnectionHandler+Output` (buffers, flushing), `+Adds` (runs of adds and
/// the table writer), `+Operations` (the other requests), `+Lists` and `+Watches` (streams).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    let server: RouterServer
    let executor: RequestExecutor
    let id: UInt64
    let token = ProcessFacts.randomHex(bytes: 16)
    var logger: Logger
    /// The peer as the executor sees it; set once its credentials are read.
    var caller: Caller
    var uid: UInt32 = .max
    var context: ChannelHandlerContext?
    var state = ConnectionState()
    /// Frames that arrived while they could not be handled (see `ConnectionState.accepting`).
    var pending = Deque<InboundFrame>()
    /// True while an operation is being started: a store that completes at once is answered in
    /// place, and the frame loop goes on, rather than draining from inside the completion.
    var starting = false
    var watches: [RequestID?: Watch] = [:]
    var backlog = WatchBacklog()
    /// Lookups counted here and handed to the metrics once per read burst.
    var lookupTally: RouterMetrics.LookupTally
    var flushScheduled = false
    /// Replies gathered during a read burst (see `write`).
    var outbound: ByteBuffer?
    /// Adds read but not yet run, and their requests (see `flushAdds`).
    var addRun: [AddRequest] = []
    var addRunIDs: [RequestID?] = []

    struct Watch {
        var handle: SubscriptionHandle
        var ended: Bool
        /// Whom its events are written for: fixed when it starts, like its filter.
        var viewer: Viewer
    }

    init(server: RouterServer, id: UInt64) {
        self.server = server
        self.executor = server.executor
        self.id = id
        var logger = server.logger
        logger[metadataKey: "connection"] = "\(id)"
        self.logger = logger
        caller = Caller(principal: .user("unknown"), session: id, logger: logger)
        lookupTally = server.executor.metrics.makeLookupTally()
    }

    var principal: Principal { caller.principal }
    /// The caller as answers are written for them (with the namespaces shared with them now).
    var viewer: Viewer { executor.viewer(caller) }
    var table: RouteTable { executor.table }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let credentials: EventLoopFuture<PeerCredentials>
        if let provider = channel as? SocketOptionProvider {
            credentials = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        } else {
            credentials = context.eventLoop.makeSucceededFuture(PeerCredentials(pid: 0, uid: UInt32.max, gid: 0))
        }
        credentials.whenComplete { result in
            loopBound.value.authenticated(try? result.get())
        }
    }

    func authenticated(_ credentials: PeerCredentials?) {
        guard let context else { return }
        uid = credentials?.uid ?? .max
        let principal = server.principals.principal(uid: uid)
        logger[metadataKey: "peer"] = "\(principal)"
        caller = Caller(principal: principal, session: id, logger: logger,
                        peer: credentials.map { "uid \($0.uid) pid \($0.pid)" } ?? "", audits: server.configuration.auditChanges)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        let connection = RouterServer.Connection(channel: channel) {
            channel.eventLoop.execute { loopBound.value.shutdown() }
        }
        guard server.connectionOpened(id, connection, uid: uid, token: token) else {
            logger.notice("refused connection: server full or stopping")
            write(Reply.failure(nil, ProtocolError(.unavailable, "the daemon is at --max-connections or stopping; try again later")))
            flushThenClose()
            return
        }
        logger.info("connected", metadata: ["uid": "\(uid)", "pid": "\(credentials?.pid ?? 0)"])
        write(Reply.line(.object([("hello", greeting())])))
        flushOutbound()
        state.greet()
        drain()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state.frameArrived(waiting: pending.count) {
        case .handle:
            handle(frame)
        case .hold:
            pending.append(frame)
        case .holdAndPauseReading:
            pending.append(frame)
            setReading(false)
        }
    }

    func setReading(_ on: Bool) {
        try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutbound()
        executor.metrics.flush(&lookupTally, transport: .socket)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            state.inputDidClose()
            closeIfIdle()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flushAdds() // read, so applied, even though nobody reads the replies
        executor.metrics.flush(&lookupTally, transport: .socket)
        for (_, watch) in watches {
            watch.handle.cancel()
            server.watcherEnded()
        }
        watches = [:]
        backlog.check?.cancel()
        // The session ends once its work is in: none may land after its routes are let go.
        if state.channelClosed() { sessionEnded() }
        self.context = nil
        context.fireChannelInactive()
    }

    func sessionEnded() {
        if state.greeted { server.connectionClosed(id, token: token, uid: uid) }
        logger.info("disconnected")
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A half-closed client (a script piping requests) is done once nothing is left to answer.
    func closeIfIdle() {
        guard state.isIdle(waiting: pending.count, watching: !watches.isEmpty) else { return }
        flushThenClose()
    }

    /// Closes once everything written so far has gone out (or after `timeout`, for a peer that
    /// does not read).
    func flushThenClose(timeout: TimeAmount = .seconds(1)) {
        guard let context else { return }
        let channel = context.channel
        let flushed = context.eventLoop.makePromise(of: Void.self)
        emitOutbound()
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0)), promise: flushed)
        let deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        flushed.futureResult.whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }

    /// Shutdown: what was read is answered, every watch ends with `unavailable`, then the
    /// connection closes.
    func shutdown() {
        guard context != nil else { return }
        if state.shutdownRequested() { setReading(false) }
        // Requests held behind work out are answered first; the work comes back here.
        drain()
        guard !state.workOut else { return }
        for (watchID, watch) in watches where !watch.ended {
            watches[watchID]!.ended = true
            watch.handle.cancel()
            write(Reply.failure(watchID, ProtocolError(.unavailable, "the daemon is shutting down")))
        }
        flushThenClose()
    }

    /// Work came back (a run of adds, a store operation): go on as the state says.
    func workReturned(_ next: ConnectionState.AfterWork) {
        switch next {
        case .drain: drain()
        case .continueShutdown: shutdown()
        case .endSession: sessionEnded()
        case .nothing: break
        }
    }

    // MARK: Requests

    /// Handles the frames that wait, as far as the state allows.
    func drain() {
        while state.accepting, let frame = pending.popFirst() {
            handle(frame)
        }
        if state.drained(waiting: pending.count) { setReading(true) }
        flushOutbound()
        closeIfIdle()
    }

    /// Holds `frame` (to be handled again) while runs of adds are out; false when it can go now.
    func waitsForRuns(_ frame: InboundFrame) -> Bool {
        if !addRun.isEmpty && state.runsAtWriter > 0 { submitAdds() }
        guard state.mustWaitForRuns() else { return false }
        pending.prepend(frame)
        return true
    }

    func handle(_ frame: InboundFrame) {
        switch frame {
        case .tooLarge:
            if waitsForRuns(frame) { return }
            flushAdds()
            fail(nil, ProtocolError(.tooLarge, "line longer than \(server.configuration.maximumLineLength) bytes (--max-line); it was skipped"), op: nil)
        case .line(let buffer):
            // The common add line is read straight into its arguments; anything else in full.
            if let (id, arguments) = Self.withBytes(of: buffer, AddArguments.parseLine) {
                handleAdd(id, arguments, frame)
                return
            }
            switch Self.withBytes(of: buffer, Request.parse) {
            case .failure(let failure):
                if waitsForRuns(frame) { return }
                flushAdds()
                fail(failure.id, failure.error, op: nil)
            case .success(let request):
                if request.op == Operation.add.rawValue {
                    handleAdd(request.id, AddArguments(request), frame)
                    return
                }
                if waitsForRuns(frame) { return }
                flushAdds()
                do throws(ProtocolError) {
                    try execute(request)
                } catch {
                    flushAdds()
                    fail(request.id, error, op: request.op)
                }
            }
        }
    }

    static func withBytes<R>(of buffer: ByteBuffer, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        buffer.withUnsafeReadableBytes { raw in
            body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
        }
    }

    /// Dispatches a parsed request other than `add` to its operation.
    func execute(_ request: Request) throws(ProtocolError) {
        guard let operation = Operation(rawValue: request.op) else {
            throw ProtocolError(.unknownOp, "unknown op '\(request.op)'")
        }
        switch operation {
        case .hello: try hello(request)
        case .ping: succeed(request, .object([]))
        case .add: try translating { () throws(RouteError) in queueAdd(request.id, try executor.addRequest(AddArguments(request), session: id, for: principal)) }
        case .delete: try translating { () throws(RouteError) in try delete(request) }
        case .lookup: try lookup(request)
        case .list: try translating { () throws(RouteError) in try list(request) }
        case .watch: try watch(request)
        case .cancel: try cancel(request)
        case .touch: try translating { () throws(RouteError) in try touch(request) }
        case .update: try translating { () throws(RouteError) in try update(request) }
        case .batch: try batch(request)
        case .stats: stats(request)
        case .history: try translating { () throws(RouteError) in try history(request) }
        case .dns:
            try translating { () throws(RouteError) in
                succeed(request, try executor.explainDNS(name: request.string("name")!, type: request.string("type"), as: caller))
            }
        case .holds:
            try translating { () throws(RouteError) in
                let held = try executor.heldNames(prefix: request.string("prefix"), owner: request.string("owner"), as: caller)
                succeed(request, Wire.held(held))
            }
        case .describe: succeed(request, Operations.description)
        }
    }

    func translating(_ body: () throws(RouteError) -> Void) throws(ProtocolError) {
        do { try body() } catch { throw Wire.error(error) }
    }

    /// Starts an operation that completes through the store, keeping replies in order: until it
    /// has completed, later frames wait. `finish` runs on this loop with the result: in place
    /// when the store completes at once (the memory store), later otherwise.
    func perform<Result: Sendable>(_ start: (@escaping @Sendable (Result) -> Void) -> Void,
                                   then finish: @escaping (ConnectionHandler, Result) -> Void) {
        guard let context else { return }
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let finishing = NIOLoopBound(finish, eventLoop: loop)
        state.operationStarted()
        let wasStarting = starting
        starting = true
        start { result in
            if loop.inEventLoop {
                handler.value.operationCompleted(result, finishing.value)
            } else {
                loop.execute { handler.value.operationCompleted(result, finishing.value) }
            }
        }
        starting = wasStarting
    }

    func operationCompleted<Result>(_ result: Result, _ finish: (ConnectionHandler, Result) -> Void) {
        finish(self, result)
        let next = state.operationFinished()
        // Completed in place: the frame loop that started it goes on by itself.
        if !starting { workReturned(next) }
    }
}
