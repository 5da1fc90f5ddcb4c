#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import DomainRouter
import Logging
import NIOCore
import RouterProtocol
import Synchronization

/// What a connection's watches have written that its socket has not taken yet. Like Redis's
/// client output buffer limits: a backlog above `--watcher-buffer` events for two seconds,
/// sixteen times above it at any moment, or above `--watcher-buffer-bytes` of buffers marks a
/// peer that does not read; its watches are sent `slow_consumer` and the connection is closed,
/// and it never silently misses an event. Bursts that a reading client drains in time (a
/// tunnel of 10,000 routes deleted at once) pass. Lives on the connection's event loop.
struct WatchBacklog {
    /// Events handed to the channel and not yet written to the socket.
    var events = 0
    /// The capacity of the buffers holding them: the memory the peer holds.
    var bytes = 0
    /// Since when the events have been above the count limit; nil while at or below it.
    var aboveSince: NIODeadline?
    /// The check that cuts the peer once it has stayed above for the whole patience.
    var check: Scheduled<Void>?
    /// Events and bytes in the outbound buffer not yet handed to the channel.
    var unsentEvents = 0
}

/// One connection: its session, its principal, its requests (answered in order) and watches.
/// Runs on the channel's event loop; table operations are synchronous and short.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    let server: RouterServer
    let id: UInt64
    let token = randomHex(bytes: 16)
    var logger: Logger
    var principal: Principal = .user("unknown")
    var uid: UInt32 = .max
    var context: ChannelHandlerContext?
    /// Lines that arrived while the peer's credentials were read or a list was streaming.
    var pending = Deque<InboundFrame>()
    var ready = false
    var streaming = false
    var inputClosed = false
    var watches: [RequestID?: Watch] = [:]
    var flushScheduled = false
    /// Replies gathered during a read burst (see `write`).
    var outbound: ByteBuffer?
    /// Whether change lines (notice) are logged: decided once, as building their metadata for a
    /// logger that drops them cost more than the add's reply.
    let auditsChanges: Bool
    /// Adds read but not yet run, and their requests (see `flushAdds`).
    var addRun: [AddRequest] = []
    var addRunIDs: [RequestID?] = []
    /// Runs of adds handed to the table writer and not answered yet (see `submitAdds`).
    var runsOut = 0
    /// A frame waits at the head of `pending` until every submitted run is answered.
    var waitingForRuns = false
    /// The connection closed or is shutting down while runs were out: finished when they return.
    var closedWithRunsOut = false
    /// The daemon is shutting down: no more reads; what was read is answered, then it closes.
    var stopping = false
    /// Reading is paused while many frames wait behind runs of adds (see `pendingReadLimit`).
    var readingPaused = false

    struct Watch {
        var handle: SubscriptionHandle
        var ended: Bool
    }

    var backlog = WatchBacklog()

    static let slowConsumerPatience: TimeAmount = .seconds(2)

    init(server: RouterServer, id: UInt64) {
        self.server = server
        self.id = id
        var logger = server.logger
        logger[metadataKey: "connection"] = "\(id)"
        self.logger = logger
        auditsChanges = logger.logLevel <= .notice
    }

    var table: RouteTable { server.table }

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
        principal = server.principals.principal(uid: uid)
        logger[metadataKey: "peer"] = "\(principal)"
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
        ready = true
        drain()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !accepting || !pending.isEmpty {
            pending.append(frame)
            if runsOut > 0 && pending.count >= Self.pendingReadLimit && !readingPaused { pauseReading(true) }
            return
        }
        handle(frame)
    }

    /// Frames held behind runs of adds beyond which the socket is not read until the runs catch
    /// up. The table writer finishes without the client's help, so this never waits on a
    /// client that does not read (replies it leaves unread are buffered, as in Redis).
    static let pendingReadLimit = 4_096

    func pauseReading(_ pause: Bool) {
        readingPaused = pause
        try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: !pause)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutbound()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            closeIfIdle()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flushAdds() // read, so applied, even though nobody reads the replies
        for (_, watch) in watches {
            watch.handle.cancel()
            server.watcherEnded()
        }
        watches = [:]
        backlog.check?.cancel()
        // The session ends once its adds are in: none may land after its routes are let go.
        if runsOut == 0 { sessionEnded() } else { closedWithRunsOut = true }
        self.context = nil
        context.fireChannelInactive()
    }

    func sessionEnded() {
        if ready { server.connectionClosed(id, token: token) }
        logger.info("disconnected")
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A half-closed client (a script piping requests) is done once nothing is left to answer.
    func closeIfIdle() {
        guard inputClosed, ready, !streaming, pending.isEmpty, runsOut == 0, watches.isEmpty else { return }
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

    /// Shutdown: every watch ends with `unavailable`, then the connection closes.
    func shutdown() {
        guard let context else { return }
        if !stopping {
            stopping = true
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
        }
        // What was read is answered first: requests held behind runs of adds at the table
        // writer, and those runs (`runAnswered` comes back here).
        drain()
        guard runsOut == 0 else { return }
        for (watchID, watch) in watches where !watch.ended {
            watches[watchID]!.ended = true
            watch.handle.cancel()
            write(Reply.failure(watchID, ProtocolError(.unavailable, "the daemon is shutting down")))
        }
        _ = context
        flushThenClose()
    }

    // MARK: Requests

    /// Whether the next frame may be handled now: not before the greeting, during a list's
    /// stream, while a frame waits for the submitted runs, or while the table writer holds as
    /// many runs as it may.
    var accepting: Bool {
        ready && context != nil && !streaming && !waitingForRuns && runsOut < Self.submittedRunLimit
    }

    func drain() {
        while accepting, let frame = pending.popFirst() {
            handle(frame)
        }
        if readingPaused && !stopping && (runsOut == 0 || pending.count < Self.pendingReadLimit / 2) {
            pauseReading(false)
        }
        flushOutbound()
        closeIfIdle()
    }

    // MARK: Output
    //
    // Replies are gathered into one buffer per read burst (pipelined requests then cost one
    // socket write, not one each) and handed to the pipeline at the end of the burst, before any
    // write that bypasses the buffer (watch events), or when the next reply does not fit: order
    // is kept. Hot replies are written straight into it (`writeReply`).

    /// Appends bytes to the outbound buffer.
    func write(_ bytes: [UInt8]) {
        guard reserveOutbound(bytes.count) else { return }
        outbound!.writeBytes(bytes)
    }

    /// Writes one reply line of at most `maximumLength` bytes (newline included) straight into
    /// the outbound buffer.
    func writeReply(maximumLength: Int, _ body: (inout JSONOutput) -> Void) {
        guard reserveOutbound(maximumLength) else { return }
        outbound!.writeWithUnsafeMutableBytes(minimumWritableBytes: maximumLength) { raw in
            var out = JSONOutput(raw)
            body(&out)
            return out.count
        }
    }

    /// Outbound buffers are never grown (a full one is handed on and another started), so none
    /// is copied or crosses malloc's mmap threshold. A burst starts with a small one (most
    /// bursts are a few replies; 50 clients each taking 64 KiB per burst spent 6% in malloc),
    /// and continues with large ones once it has filled it.
    static let firstOutboundCapacity = 8_192
    static let outboundCapacity = 65_536

    /// Makes room for `count` more bytes in `outbound`, handing a full buffer on first; false
    /// once the connection is gone.
    func reserveOutbound(_ count: Int) -> Bool {
        guard let context else { return false }
        var size = Self.firstOutboundCapacity
        if let buffer = outbound, buffer.writableBytes < count, buffer.readableBytes > 0 {
            emitOutbound()
            size = Self.outboundCapacity
        }
        if outbound == nil { outbound = context.channel.allocator.buffer(capacity: max(size, count)) }
        return true
    }

    /// Hands the gathered replies to the pipeline (without flushing). A buffer holding watch
    /// events counts toward the backlog until the socket has taken it.
    func emitOutbound() {
        flushAdds()
        guard let context, let buffer = outbound else { return }
        outbound = nil
        let events = backlog.unsentEvents
        guard events > 0 else {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        backlog.unsentEvents = 0
        let bytes = buffer.capacity
        backlog.events += events
        backlog.bytes += bytes
        let written = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in loopBound.value.backlogWritten(events: events, bytes: bytes) }
        context.write(wrapOutboundOut(buffer), promise: written)
    }

    func flushOutbound() {
        emitOutbound()
        context?.flush()
    }

    func succeed(_ request: Request, _ result: JSONValue, revision: UInt64? = nil) {
        write(Reply.success(request.id, revision: revision ?? table.revision, result: result))
    }

    func fail(_ id: RequestID?, _ error: ProtocolError, op: String?) {
        logRefusal(error, op: op)
        write(Reply.failure(id, error))
    }

    func logRefusal(_ error: ProtocolError, op: String?) {
        logger.info("refused", metadata: ["op": "\(op ?? "?")", "code": "\(error.code.rawValue)", "reason": "\(error.message)"])
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
                if request.op == "add" {
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

    /// Adds queue up (see `flushAdds`); a refused one is answered in its place.
    func handleAdd(_ id: RequestID?, _ arguments: AddArguments, _ frame: InboundFrame) {
        do throws(RouteError) {
            queueAdd(id, try addRequest(arguments))
        } catch {
            if waitsForRuns(frame) { return }
            flushAdds()
            fail(id, Wire.error(error), op: "add")
        }
    }

    func execute(_ request: Request) throws(ProtocolError) {
        switch request.op {
        case "hello": try hello(request)
        case "ping": succeed(request, .object([]))
        case "add": try translating { () throws(RouteError) in queueAdd(request.id, try addRequest(AddArguments(request))) }
        case "delete": try translating { () throws(RouteError) in try delete(request) }
        case "lookup": try lookup(request)
        case "list": try translating { () throws(RouteError) in try list(request) }
        case "watch": try watch(request)
        case "cancel": try cancel(request)
        case "touch": try translating { () throws(RouteError) in try touch(request) }
        case "batch": try batch(request)
        case "stats": stats(request)
        case "describe": succeed(request, Operations.description)
        default: throw ProtocolError(.unknownOp, "unknown op '\(request.op)'")
        }
    }

    func translating(_ body: () throws(RouteError) -> Void) throws(ProtocolError) {
        do { try body() } catch { throw Wire.error(error) }
    }

    func greeting(resumed: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("server", .string("routerd")),
            ("version", .string(RouterServer.version)),
            ("protocol", .number(protocolVersion)),
            ("instance", .string(server.instance)),
            ("revision", .number(table.revision)),
            ("principal", .object([("name", .string(principal.name)), ("admin", .bool(principal.isAdmin))])),
            ("session", .object([("id", .string(String(id))), ("resume_token", .string(token))])),
            ("max_line", .number(server.configuration.maximumLineLength)),
        ]
        if let resumed { members.append(("resumed", .number(resumed))) }
        return .object(members)
    }

    func hello(_ request: Request) throws(ProtocolError) {
        if let version = request.integer("protocol"), version != Int64(protocolVersion) {
            throw ProtocolError(.badRequest, "protocol \(version) is not supported; this daemon speaks \(protocolVersion)")
        }
        var resumed: Int?
        if let resume = request.string("resume") {
            resumed = try server.resume(token: resume, uid: uid, into: id)
            logger.notice("resumed session", metadata: ["routes": "\(resumed!)"])
        }
        succeed(request, greeting(resumed: resumed))
    }

    func seconds(_ value: Double, field: String) throws(ProtocolError) -> Duration {
        guard value.isFinite, value > 0, value <= 366 * 86_400 else {
            throw ProtocolError(.badRequest, "\(field) must be a number of seconds above 0 and at most 366 days")
        }
        return .milliseconds(Int64((value * 1000).rounded(.up)))
    }

    // MARK: Adds
    //
    // Consecutive adds of a burst of pipelined requests run together under one table lock
    // (`RouteTable.add(each:as:)`): fewer lock hand-offs between event loops adding at once.
    // The run is cut before any other request, error or output, so replies keep request order.
    //
    // A full run (a bulk load) goes to the server's table writer thread instead, so that this
    // loop parses the next run while the table takes the last one: the way Redis's I/O threads
    // parse and write while one thread executes. Up to `submittedRunLimit` runs are out at
    // once; their replies are written when they come back, in order. Until then, anything that
    // is not a valid add waits at the head of `pending`, as do all frames while the limit is
    // reached. Connections that watch keep every add on their own loop, so that the reply to an
    // add is always written before the event it caused.

    static let addRunLimit = 128
    static let submittedRunLimit = 8

    func queueAdd(_ id: RequestID?, _ add: AddRequest) {
        addRunIDs.append(id)
        addRun.append(add)
        if addRun.count >= Self.addRunLimit { flushAdds() }
    }

    /// Runs the queued adds and writes their replies, or hands them to the table writer behind
    /// runs already there (and for a full run).
    func flushAdds() {
        guard !addRun.isEmpty else { return }
        if context == nil || runsOut == 0 && (addRun.count < Self.addRunLimit || !watches.isEmpty) {
            let results = table.add(each: addRun, as: principal)
            let ids = addRunIDs
            addRun.removeAll(keepingCapacity: true) // emptied first: writing may emit, which flushes
            addRunIDs.removeAll(keepingCapacity: true)
            answer(ids, results)
        } else {
            submitAdds()
        }
    }

    /// Hands the queued adds to the table writer, which also writes their replies into one
    /// buffer; `runAnswered` sends it.
    func submitAdds() {
        let run = addRun
        let ids = addRunIDs
        addRun = []
        addRunIDs = []
        addRun.reserveCapacity(Self.addRunLimit)
        addRunIDs.reserveCapacity(Self.addRunLimit)
        runsOut += 1
        let table = self.table
        let viewer = self.principal
        let allocator = context!.channel.allocator
        let loop = context!.eventLoop
        let loopBound = NIOLoopBound(self, eventLoop: loop)
        let audits = auditsChanges
        let work: @Sendable () -> AnsweredRun = {
            let results = table.add(each: run, as: viewer)
            var replies = allocator.buffer(capacity: results.count * Self.typicalReplyLength)
            var refused = false
            for i in results.indices {
                if case .failure = results[i] { refused = true }
                Self.writeReply(ids[i], results[i], for: viewer, to: &replies)
            }
            return AnsweredRun(replies: replies, results: audits || refused ? results : nil)
        }
        server.tableWriter.runIfActive(eventLoop: loop, work).whenComplete { outcome in
            // A stopped writer (the daemon shutting down) leaves the run to this loop.
            loopBound.value.runAnswered((try? outcome.get()) ?? work())
        }
    }

    struct AnsweredRun: Sendable {
        var replies: ByteBuffer
        /// For the log: present when change lines are logged or an add was refused.
        var results: [Result<AddResult, RouteError>]?
    }

    /// An add's reply without target or labels is about 330 bytes; a run's buffer grows if
    /// its replies are longer.
    static let typicalReplyLength = 384

    /// The oldest submitted run is done: its replies go out, then whatever waited for it. (The
    /// writer is one thread taking work in order, so runs come back in the order they went.)
    func runAnswered(_ run: AnsweredRun) {
        // Still counted as out while its replies are sent: an add queued meanwhile is
        // submitted behind it, not run ahead of it.
        emitOutbound()
        context?.write(wrapOutboundOut(run.replies), promise: nil)
        for result in run.results ?? [] {
            switch result {
            case .success(let added): logAdd(added)
            case .failure(let error): logRefusal(Wire.error(error), op: "add")
            }
        }
        runsOut -= 1
        if runsOut == 0 { waitingForRuns = false }
        if closedWithRunsOut {
            if runsOut == 0 { sessionEnded() }
        } else if stopping {
            shutdown()
        } else {
            drain()
        }
    }

    /// Holds `frame` (to be handled again) while runs are out; false when it can go now.
    func waitsForRuns(_ frame: InboundFrame) -> Bool {
        if !addRun.isEmpty && runsOut > 0 { submitAdds() }
        guard runsOut > 0 else { return false }
        pending.prepend(frame)
        waitingForRuns = true
        return true
    }

    /// Writes the replies of a run of adds into the outbound buffer.
    func answer(_ ids: [RequestID?], _ results: [Result<AddResult, RouteError>]) {
        for i in results.indices {
            let id = ids[i]
            switch results[i] {
            case .success(let added):
                logAdd(added)
                if reserveOutbound(Self.maximumReplyLength(id, results[i])) {
                    Self.writeReply(id, results[i], for: principal, to: &outbound!)
                }
            case .failure(let error):
                fail(id, Wire.error(error), op: "add")
            }
        }
    }

    /// The most bytes `writeReply` writes for a successful add's reply; a refusal's length is
    /// only known once written (0).
    static func maximumReplyLength(_ id: RequestID?, _ result: Result<AddResult, RouteError>) -> Int {
        guard case .success(let added) = result else { return 0 }
        return Reply.maximumSuccessHeadLength(id) + Wire.maximumLength(of: added.route) + 16
    }

    /// Writes one add's reply line, as `viewer` may see it.
    static func writeReply(_ id: RequestID?, _ result: Result<AddResult, RouteError>, for viewer: Principal,
                           to buffer: inout ByteBuffer) {
        switch result {
        case .success(let added):
            let length = maximumReplyLength(id, result)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                var out = JSONOutput(raw)
                Reply.writeSuccessHead(id, revision: added.revision, to: &out)
                out.literal("{\"route\":")
                Wire.writeRoute(added.route, for: viewer, to: &out)
                out.literal("}}\n")
                return out.count
            }
        case .failure(let error):
            buffer.writeBytes(Reply.failure(id, Wire.error(error)))
        }
    }

    func logAdd(_ result: AddResult) {
        guard auditsChanges else { return }
        logger.notice("\(result.created ? "add" : "update")", metadata: [
            "key": "\(result.route.key)", "tunnel": "\(result.route.tunnel)", "owner": "\(result.route.owner)",
        ])
    }

    func logDelete(_ removed: [Route]) {
        guard auditsChanges else { return }
        for route in removed {
            logger.notice("delete", metadata: ["key": "\(route.key)", "tunnel": "\(route.tunnel)", "owner": "\(route.owner)"])
        }
    }

    func addRequest(_ a: AddArguments) throws(RouteError) -> AddRequest {
        let name: AddRequest.Name
        if a.random {
            guard a.key == nil else { throw .invalidArgument("give either key or random, not both") }
            name = .random(domain: a.domain)
        } else if let key = a.key {
            guard a.domain == nil else { throw .invalidArgument("domain goes with random: true") }
            name = key == "tcp:auto" ? .tcpAuto : .key(try table.key(key))
        } else {
            throw .invalidArgument("add needs a key (or random: true)")
        }
        var ttl: Duration?
        if let value = a.ttl {
            do { ttl = try seconds(value, field: "ttl") } catch { throw .invalidArgument(error.message) }
        }
        return AddRequest(
            name,
            tunnel: try a.tunnel.map { (t: String) throws(RouteError) in try TunnelID(t) },
            target: try a.target.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) },
            ttl: ttl,
            session: a.session ? id : nil,
            replace: a.replace,
            labels: a.labels,
            owner: a.owner)
    }

    func delete(_ request: Request) throws(RouteError) {
        let key = try table.key(request.string("key")!)
        let removed = try table.delete(key, as: principal)
        logDelete(removed)
        succeed(request, .object([("deleted", .number(removed.count))]))
    }

    // MARK: Batch

    static let batchOps: Set<String> = ["add", "delete", "touch"]

    /// Runs a batch: with `atomic`, through the table's all-or-nothing `apply`; otherwise one
    /// operation after another, each with its own result or error.
    func batch(_ request: Request) throws(ProtocolError) {
        guard case .array(let items)? = request.arguments["ops"] else { return }
        var requests: [Request] = []
        requests.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch Request.validate(item, allowed: Self.batchOps) {
            case .success(let op) where op.id == nil:
                requests.append(op)
            case .success:
                throw ProtocolError(.badRequest, "ops[\(index)]: operations in a batch carry no id",
                                    details: .object([("index", .number(index))]))
            case .failure(let failure):
                var error = failure.error
                error.message = "ops[\(index)]: " + error.message
                error.details = .object([("index", .number(index))])
                throw error
            }
        }
        if request.bool("atomic") {
            var ops: [BatchOperation] = []
            for (index, op) in requests.enumerated() {
                do throws(RouteError) {
                    ops.append(try batchOperation(op))
                } catch {
                    throw indexed(Wire.error(error), index: index, op: op.op)
                }
            }
            let outcomes: [BatchOutcome]
            do throws(BatchFailure) {
                outcomes = try table.apply(ops, as: principal)
            } catch {
                throw indexed(Wire.error(error.error), index: error.index, op: requests[error.index].op)
            }
            var results: [JSONValue] = []
            for (op, outcome) in zip(ops, outcomes) {
                switch outcome {
                case .added(let result):
                    logAdd(result)
                    results.append(.object([("route", Wire.route(result.route, for: principal))]))
                case .deleted(let removed):
                    logDelete(removed)
                    results.append(.object([("deleted", .number(removed.count))]))
                case .touched(let routes):
                    guard case .touch(let key, _) = op else { continue }
                    results.append(touchResult(routes, tunnel: key.kind == nil))
                }
            }
            succeed(request, .object([("results", .array(results))]))
            return
        }
        var results: [JSONValue] = []
        for op in requests {
            do throws(RouteError) {
                let result: JSONValue
                switch op.op {
                case "add":
                    let added = try table.add(try addRequest(AddArguments(op)), as: principal)
                    logAdd(added)
                    result = .object([("route", Wire.route(added.route, for: principal))])
                case "delete":
                    let removed = try table.delete(try table.key(op.string("key")!), as: principal)
                    logDelete(removed)
                    result = .object([("deleted", .number(removed.count))])
                default:
                    let key = try table.key(op.string("key")!)
                    let routes = try table.touch(key, ttl: try touchTTL(op), as: principal)
                    result = touchResult(routes, tunnel: key.kind == nil)
                }
                results.append(.object([("ok", .bool(true)), ("result", result)]))
            } catch {
                let e = Wire.error(error)
                results.append(.object([("ok", .bool(false)), ("error", .object([
                    ("code", .string(e.code.rawValue)), ("message", .string(e.message)), ("details", e.details ?? .object([])),
                ]))]))
            }
        }
        succeed(request, .object([("results", .array(results))]))
    }

    func batchOperation(_ op: Request) throws(RouteError) -> BatchOperation {
        switch op.op {
        case "add": return .add(try addRequest(AddArguments(op)))
        case "delete": return .delete(try table.key(op.string("key")!))
        default: return .touch(try table.key(op.string("key")!), ttl: try touchTTL(op))
        }
    }

    func indexed(_ error: ProtocolError, index: Int, op: String) -> ProtocolError {
        var error = error
        error.message = "ops[\(index)] (\(op)): \(error.message); nothing was applied"
        var details: [(String, JSONValue)] = [("index", .number(index))]
        if case .object(let members)? = error.details { details += members }
        error.details = .object(details)
        return error
    }

    func lookup(_ request: Request) throws(ProtocolError) {
        let given = (request.arguments["key"] != nil ? 1 : 0) + (request.arguments["host"] != nil ? 2 : 0)
            + (request.arguments["sni"] != nil ? 4 : 0)
        guard given == 1 || given == 2 || given == 4 else {
            throw ProtocolError(.badRequest, "lookup takes exactly one of key, host or sni")
        }
        do throws(RouteError) {
            let result: LookupResult
            switch given == 2 ? "host" : given == 4 ? "sni" : "key" {
            case "host":
                result = try table.resolve(host: request.string("host")!, source: .hostHeader)
            case "sni":
                result = try table.resolve(host: request.string("sni")!, source: .sni)
            default:
                let key = try table.key(request.string("key")!)
                if case .tunnel(let tunnel) = key {
                    let info = try table.tunnel(tunnel)
                    let visible = principal.isAdmin || info.owner == principal.name
                    succeed(request, .object([
                        ("tunnel", .object([
                            ("id", .string(info.id.rawValue)), ("owner", .string(info.owner)),
                            ("routes", .number(info.routes.count)), ("expires_at", Wire.timestamp(info.expiresAt)),
                        ])),
                        ("routes", .array(info.routes.map { Wire.route($0, for: visible ? .admin("") : principal) })),
                    ]))
                    return
                }
                result = try table.lookup(key: key)
            }
            let revision = table.revision
            let viewer = principal
            let length = Reply.maximumSuccessHeadLength(request.id) + Wire.maximumLength(of: result.route)
                + JSONOutput.maximumLength(ofString: result.via) + 64
            writeReply(maximumLength: length) { out in
                Reply.writeSuccessHead(request.id, revision: revision, to: &out)
                out.literal("{\"route\":")
                Wire.writeRoute(result.route, for: viewer, to: &out)
                if result.match == .exact {
                    out.literal(",\"match\":\"exact\",\"via\":")
                } else {
                    out.literal(",\"match\":\"wildcard\",\"via\":")
                }
                out.string(result.via)
                out.literal("}}\n")
            }
        } catch {
            throw Wire.error(error)
        }
    }

    // MARK: Streams

    func list(_ request: Request) throws(RouteError) {
        var query = RouteQuery()
        query.prefix = request.string("prefix")
        query.tunnel = try request.string("tunnel").map { (t: String) throws(RouteError) in try TunnelID(t) }
        query.owner = request.string("owner")
        if let kind = request.string("kind") {
            guard let parsed = RouteKind(rawValue: kind) else {
                throw .invalidArgument("kind must be host, wildcard or tcp, not '\(kind.prefix(20))'")
            }
            query.kind = parsed
        }
        if let label = request.string("label") {
            let parts = label.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw .invalidArgument("label filter must look like key=value") }
            query.labels = [String(parts[0]): String(parts[1])]
        }
        query.after = request.string("after")
        var remaining: Int?
        if let limit = request.integer("limit") {
            guard limit >= 1 else { throw .invalidArgument("limit must be at least 1") }
            remaining = Int(min(limit, Int64(Int.max)))
        }
        streamList(request, query: query, remaining: remaining, count: 0)
    }

    /// Writes a page of at most 1,000 routes; when more follow, continues once the page has
    /// been written to the socket (so a million routes never sit in memory at once), holding
    /// back later requests so that replies stay in order.
    func streamList(_ request: Request, query: RouteQuery, remaining: Int?, count: Int) {
        var query = query
        let pageSize = min(remaining ?? 1000, 1000)
        query.limit = pageSize
        let page = table.list(query, as: principal)
        for route in page.routes { write(Reply.item(request.id, route: Wire.route(route, for: principal))) }
        let total = count + page.routes.count
        let left = remaining.map { $0 - page.routes.count }
        if let next = page.next, left.map({ $0 > 0 }) ?? true, let context {
            streaming = true
            query.after = next
            let nextQuery = query
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: Void.self)
            emitOutbound()
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
            promise.futureResult.whenComplete { result in
                let handler = loopBound.value
                guard case .success = result, handler.context != nil else { return }
                handler.streamList(request, query: nextQuery, remaining: left, count: total)
            }
            return
        }
        succeed(request, .object([("count", .number(total)), ("revision", .number(page.revision)), ("next", page.next.map { .string($0) } ?? .null)]),
                revision: page.revision)
        if streaming {
            streaming = false
            drain()
        }
    }

    func watch(_ request: Request) throws(ProtocolError) {
        guard watches[request.id] == nil else {
            throw ProtocolError(.badRequest, "a watch with id \(request.id?.description ?? "null") is already running on this connection")
        }
        var from: UInt64?
        if let revision = request.integer("from_revision") {
            guard revision >= 0 else { throw ProtocolError(.badRequest, "from_revision must be 0 or more") }
            if let instance = request.string("instance"), instance != server.instance {
                throw ProtocolError(.compacted, "revision \(revision) belongs to another daemon instance (it restarted); its history is gone: list again, then watch from now",
                                    details: .object([("reason", .string("restarted")), ("instance", .string(server.instance)),
                                                      ("oldest_revision", .number(table.stats().oldestRevision))]))
            }
            from = UInt64(revision)
        }
        let filter = EventFilter(
            prefix: request.string("prefix"),
            tunnel: request.string("tunnel").flatMap { try? TunnelID($0) },
            owner: principal.isAdmin ? nil : principal.name)
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let watchID = request.id
        // Runs under the table's lock, in order: hand the event to the connection's loop.
        let deliver: @Sendable (RouteEvent) -> Bool = { event in
            eventLoop.execute { loopBound.value.deliver(event, to: watchID) }
            return true
        }
        let handle: SubscriptionHandle
        do {
            handle = try table.subscribe(from: from, filter: filter, deliver: deliver)
        } catch {
            throw Wire.error(error)
        }
        watches[request.id] = Watch(handle: handle, ended: false)
        server.watcherStarted()
    }

    /// Writes one event of a watch into the outbound buffer; it counts toward the backlog from
    /// then until the socket has taken it.
    func deliver(_ event: RouteEvent, to watchID: RequestID?) {
        guard let watch = watches[watchID], !watch.ended, context != nil else { return }
        let line = Reply.event(watchID, event: Wire.event(event, for: principal))
        guard reserveOutbound(line.count) else { return }
        outbound!.writeBytes(line)
        backlog.unsentEvents += 1
        scheduleFlush()
        let limit = server.configuration.watcherBuffer
        let events = backlog.events + backlog.unsentEvents
        if events > max(limit * 16, 131_072) || backlog.bytes + (outbound?.capacity ?? 0) > server.configuration.watcherBufferBytes {
            slowConsumer()
        } else if events > limit, backlog.aboveSince == nil {
            backlog.aboveSince = .now()
            if backlog.check == nil { checkBacklog(in: Self.slowConsumerPatience) }
        }
    }

    /// The socket took a buffer of events.
    func backlogWritten(events: Int, bytes: Int) {
        backlog.events -= events
        backlog.bytes -= bytes
        if backlog.events <= server.configuration.watcherBuffer { backlog.aboveSince = nil }
    }

    /// Cuts the peer once its backlog has stayed above the limit for the whole patience; while
    /// it has not yet, looks again when it would have.
    func checkBacklog(in delay: TimeAmount) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        backlog.check = context.eventLoop.scheduleTask(in: delay) {
            let handler = loopBound.value
            handler.backlog.check = nil
            guard let since = handler.backlog.aboveSince else { return } // came down; the next rise checks again
            let above = NIODeadline.now() - since
            if above >= Self.slowConsumerPatience {
                handler.slowConsumer()
            } else {
                handler.checkBacklog(in: Self.slowConsumerPatience - above)
            }
        }
    }

    /// One flush after the events queued on the loop so far, rather than one per event.
    func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.flushOutbound()
        }
    }

    /// The peer fell behind: every watch on the connection says so, then the connection closes
    /// rather than skip events.
    func slowConsumer() {
        guard let context else { return }
        let failure = Wire.error(RouteError.overflow(capacity: server.configuration.watcherBuffer))
        for (watchID, watch) in watches where !watch.ended {
            watches[watchID]!.ended = true
            watch.handle.cancel()
            write(Reply.failure(watchID, failure))
        }
        backlog.check?.cancel()
        logger.notice("slow consumer disconnected", metadata: ["backlog_events": "\(backlog.events + backlog.unsentEvents)"])
        // Closed at once, like Redis's output buffer limits: the socket takes what it has room
        // for (the slow_consumer lines last, if there is room), and the queued backlog is freed
        // now rather than held for a peer that does not read. A watcher far behind sees the close.
        flushOutbound()
        context.close(promise: nil)
        server.memoryFreed()
    }

    func cancel(_ request: Request) throws(ProtocolError) {
        guard let target = RequestID(request.arguments["watch"]!), let watch = watches[target], !watch.ended else {
            throw ProtocolError(.notFound, "no watch with id \(request.arguments["watch"].map { JSONWriter.encode($0) } ?? "?") on this connection")
        }
        watch.handle.cancel()
        succeed(request, .object([]))
        guard let context else { return }
        // After the events already queued on the loop, the watch's own final line.
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            guard let watch = handler.watches.removeValue(forKey: target), !watch.ended else { return }
            handler.server.watcherEnded()
            handler.write(Reply.success(target, revision: handler.table.revision, result: .object([("cancelled", .bool(true))])))
            handler.flushOutbound()
            handler.closeIfIdle()
        }
    }

    func touch(_ request: Request) throws(RouteError) {
        let key = try table.key(request.string("key")!)
        let routes = try table.touch(key, ttl: try touchTTL(request), as: principal)
        succeed(request, touchResult(routes, tunnel: key.kind == nil))
    }

    func touchTTL(_ request: Request) throws(RouteError) -> Duration? {
        guard let value = request.number("ttl") else { return nil }
        do { return try seconds(value, field: "ttl") } catch { throw .invalidArgument(error.message) }
    }

    func touchResult(_ routes: [Route], tunnel: Bool) -> JSONValue {
        tunnel ? .object([("routes", .array(routes.map { Wire.route($0, for: principal) }))])
            : .object([("route", Wire.route(routes[0], for: principal))])
    }

    func stats(_ request: Request) {
        let stats = table.stats()
        let (connections, watchers) = server.counts
        let uptime = server.uptime.components.seconds
        succeed(request, .object([
            ("routes", .object([
                ("host", .number(stats.hosts)), ("wildcard", .number(stats.wildcards)),
                ("tcp", .number(stats.tcp)), ("total", .number(stats.total)),
            ])),
            ("tunnels", .number(stats.tunnels)),
            ("revision", .number(stats.revision)),
            ("oldest_revision", .number(stats.oldestRevision)),
            ("connections", .number(connections)),
            ("watchers", .number(watchers)),
            ("sessions", .number(stats.sessions)),
            ("uptime_s", .number(Int(uptime))),
            ("rss_bytes", .number(residentBytes())),
            ("instance", .string(server.instance)),
        ]), revision: stats.revision)
    }
}
