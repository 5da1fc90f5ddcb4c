import DomainRouter
import Logging
import NIOCore
import NIOHTTP1

/// Serves one client connection of the HTTP listener: routes each request by its Host header
/// through the replica, forwards it to the route's target and streams the response back.
///
/// Requests are served one at a time, in order: what a client pipelines behind the request in
/// progress waits in `queue` (reading stops while it holds anything), and so do a parse error
/// and the end of the client's input, so that every request before them is answered first
/// (RFC 9112 §9.3.2). Nothing of a request goes upstream before `RequestRules` has decided its
/// framing, and the head sent carries framing the gateway wrote. A connection to a target whose
/// response was read to its end goes back to the event loop's `UpstreamPool` for the next
/// request of any client to that target; an idempotent request sent on a pooled connection
/// that the target had closed is sent again, once, on a fresh one. Bodies stream both ways with
/// back-pressure: this side reads only while the target's connection takes writes, and the
/// target's side reads only while this connection does.
final class HTTPProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One request on its way through.
    struct Exchange {
        var key: String
        /// The name the request asked for (its Host as sent), for the access log, which
        /// makes it safe to print: a miss has no key but was asked for something.
        var host = "-"
        var method: HTTPMethod
        var version: HTTPVersion
        var keepAlive: Bool
        var started: NIODeadline
        var requestEnded = false
        var responseStarted = false
        var status = 0
        var bytes = 0
        /// The request asked to switch protocols (WebSocket); a 101 turns the exchange into
        /// a byte splice.
        var upgrade = false
    }

    enum Phase {
        /// Waiting for the next request head.
        case idle
        /// Connecting to the target; the request's parts wait in `buffered`.
        case connecting(Exchange, buffered: [HTTPClientRequestPart])
        /// The target has the request head; the rest streams as it comes, then the response.
        case forwarding(Exchange)
        /// Answered by the gateway itself, the connection kept: the rest of the request is
        /// read and dropped, then the next request is served.
        case refused
        /// The last answer is written and the output closed; what the client still sends is
        /// dropped until it closes too (a lingering close, so that it reads the answer rather
        /// than a reset), or the linger time passes.
        case closing
    }

    /// What arrives from the client, in order.
    enum Inbound {
        case part(HTTPServerRequestPart)
        /// The decoder could not parse what followed.
        case malformed
        /// The client closed its side: no more requests.
        case inputClosed
    }

    /// How long a closing connection waits for the client to close its side.
    static let linger = TimeAmount.seconds(2)

    private let gateway: GatewayContext
    private var phase = Phase.idle
    /// Between a request's head and its end: its parts are the current exchange's.
    private var requestOpen = false
    private var queue = CircularBuffer<Inbound>()
    private var draining = false
    private var context: ChannelHandlerContext?
    private var upstream: UpstreamLink?
    /// This event loop's idle connections to targets.
    private var pool: UpstreamPool?
    private var accessLog: AccessLog?
    private var cachedClientIP: String??
    /// What went to a pooled connection for the request in progress, while it can still be
    /// sent again (an idempotent request, its body so far within `replayLimit`).
    private var replay: [HTTPClientRequestPart]?
    private var replayBytes = 0
    /// The largest body kept to send again when a pooled connection turns out closed.
    static let replayLimit = 64 * 1024
    private var pendingRead = false
    private var holdReads = false
    /// When the current phase's time runs out (header, idle, upstream or linger timeout);
    /// nil: no limit now.
    private var deadline: NIODeadline?
    /// The connection's one scheduled task, due at `timerAt`, never later than `deadline`:
    /// a deadline that moves later (every request moves it) leaves the task as it is, and the
    /// task, when due, waits on for what is left, so requests do not schedule and cancel tasks.
    private var timer: Scheduled<Void>?
    private var timerAt = NIODeadline.distantFuture
    /// The write of the last response's end: a connection closes only after it.
    private var lastWrite: EventLoopFuture<Void>?

    init(gateway: GatewayContext) {
        self.gateway = gateway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let resources = gateway.resources(on: context.eventLoop)
        pool = resources?.pool
        accessLog = resources?.accessLog
        armTimer(gateway.configuration.headerTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancelTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        let phase = self.phase
        self.phase = .closing
        queue.removeAll()
        dropUpstream()
        if case .forwarding(let exchange) = phase { logAccess(exchange, status: exchange.responseStarted ? exchange.status : 499) }
        context.fireChannelInactive()
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.append(.part(unwrapInboundIn(data)))
        drain()
    }

    /// What a read cycle wrote to the target goes out at its end, in one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.channel.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is RequestDecoder.Malformed || error is ByteToMessageDecoderError else {
            context.close(promise: nil)
            return
        }
        queue.append(.malformed)
        drain()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            queue.append(.inputClosed)
            drain()
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Handles what waits in `queue` while the exchange in progress can take it: parts of the
    /// open request, or anything once no exchange is in progress. Re-entered calls (an answer
    /// written here can end an exchange) leave the work to the outer loop.
    private func drain() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while let next = queue.first {
            if case .closing = phase {
                // Lingering: the client closing its side ends the wait, once the answer is out.
                if queue.contains(where: { if case .inputClosed = $0 { true } else { false } }), let context {
                    let written = lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
                    written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
                queue.removeAll()
                break
            }
            // While a request is open, everything that arrives is about it (its parts, a parse
            // error in its body, the client leaving mid-request); otherwise it waits its turn.
            guard requestOpen || isIdle else { break }
            queue.removeFirst()
            switch next {
            case .part(let part): handle(part)
            case .malformed: malformed()
            case .inputClosed: inputEnded()
            }
        }
        if queue.isEmpty, let context { resumeReading(context) }
    }

    private var isIdle: Bool {
        if case .idle = phase { return !requestOpen }
        return false
    }

    private func handle(_ part: HTTPServerRequestPart) {
        guard let context else { return }
        switch part {
        case .head(let head):
            stopTimer()
            requestOpen = true
            start(head, context: context)
        case .body(let bytes):
            switch phase {
            case .connecting(let exchange, var buffered):
                buffered.append(.body(.byteBuffer(bytes)))
                phase = .connecting(exchange, buffered: buffered)
            case .forwarding:
                guard let upstream else { return }
                keepForReplay(.body(.byteBuffer(bytes)), bytes: bytes.readableBytes)
                upstream.channel.write(HTTPClientRequestPart.body(.byteBuffer(bytes)), promise: nil)
                if !upstream.channel.isWritable { holdReads = true }
            case .idle, .refused, .closing:
                break
            }
        case .end(let trailers):
            requestOpen = false
            switch phase {
            case .connecting(var exchange, var buffered):
                buffered.append(.end(trailers))
                exchange.requestEnded = true
                phase = .connecting(exchange, buffered: buffered)
            case .forwarding(var exchange):
                exchange.requestEnded = true
                phase = .forwarding(exchange)
                keepForReplay(.end(trailers), bytes: 0)
                upstream?.channel.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
                if !exchange.responseStarted { armTimer(gateway.configuration.upstreamTimeout, context: context) }
            case .refused:
                phase = .idle
                armTimer(gateway.configuration.idleTimeout, context: context)
            case .idle, .closing:
                break
            }
        }
    }

    /// The decoder failed: the request in progress is cut short, or, between requests, the
    /// client gets a 400 once every request before it is answered. The connection then closes.
    private func malformed() {
        guard let context else { return }
        let message = "The request is not valid HTTP/1.1."
        if requestOpen {
            requestOpen = false
            switch phase {
            case .connecting(var exchange, _), .forwarding(var exchange):
                exchange.keepAlive = false
                if exchange.responseStarted {
                    dropUpstream()
                    logAccess(exchange, status: exchange.status)
                    phase = .closing
                    context.close(promise: nil)
                } else {
                    respondWithError(&exchange, .badRequest, message, context: context)
                }
                return
            case .refused, .idle, .closing:
                break
            }
        }
        var exchange = Exchange(key: "-", method: .GET, version: .http1_1, keepAlive: false, started: .now())
        answer(&exchange, .badRequest, message, closeAtOnce: true)
    }

    /// The client has sent all it will: once nothing is in progress, the connection closes.
    private func inputEnded() {
        guard let context else { return }
        if requestOpen { return malformed() }
        phase = .closing
        context.close(promise: nil)
    }

    private func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var exchange = Exchange(key: "-", method: head.method, version: head.version,
                                keepAlive: head.isKeepAlive, started: .now())
        let framing: BodyFraming
        let host: String
        let target: String
        do {
            framing = try RequestRules.framing(of: head)
        } catch {
            return answer(&exchange, error.status, error.message, closeAtOnce: error.closesAtOnce)
        }
        let hasBody = framing != .none && framing != .length(0)
        do {
            host = try RequestRules.host(of: head)
            exchange.host = host
            target = try RequestRules.originTarget(of: head, host: host)
        } catch {
            return refuse(&exchange, error.status, error.message, hasBody: hasBody)
        }
        guard let found = gateway.table.lookup(host: host) else {
            return refuse(&exchange, .notFound, "No service is registered under this name.", hasBody: hasBody)
        }
        exchange.key = found.route.key
        // The connection's own address: never a header the client wrote.
        if !found.route.access.isEmpty, !(context.peerIP.map(found.route.access.admits) ?? false) {
            return refuse(&exchange, .forbidden, "Your address may not reach this service.", hasBody: hasBody)
        }
        exchange.upgrade = HTTPForwarding.upgrade(of: head) != nil
        guard let routeTarget = found.route.target else {
            return refuse(&exchange, .badGateway, "The tunnel for this name is offline.", hasBody: hasBody)
        }
        let forwarded = HTTPForwarding.upstreamHead(head, target: target, framing: framing, host: host,
                                                    clientIP: clientIP(context), scheme: "http")
        replay = nil
        if let link = pool?.take(routeTarget) {
            link.handler?.downstream = self
            upstream = link
            phase = .forwarding(exchange)
            if Self.idempotent(head.method) {
                replay = []
                replayBytes = 0
                keepForReplay(.head(forwarded), bytes: 0)
            }
            send([.head(forwarded)], to: link, context: context)
            return
        }
        connect(to: routeTarget, exchange: exchange, sending: [.head(forwarded)], context: context)
    }

    /// The client's address as X-Forwarded-For gives it, worked out once a connection.
    private func clientIP(_ context: ChannelHandlerContext) -> String? {
        if case .some(let known) = cachedClientIP { return known }
        let ip = context.channel.remoteAddress?.ipAddress
        cachedClientIP = .some(ip)
        return ip
    }

    /// Methods whose request may be sent twice (RFC 9110 §9.2.2).
    static func idempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }

    private func keepForReplay(_ part: HTTPClientRequestPart, bytes: Int) {
        guard replay != nil else { return }
        replayBytes += bytes
        if replayBytes > Self.replayLimit { replay = nil } else { replay!.append(part) }
    }

    /// Opens a fresh connection to `target` for the request in progress; `parts` go first,
    /// and what of the request arrives meanwhile waits with them.
    private func connect(to routeTarget: RouteTarget, exchange: Exchange, sending parts: [HTTPClientRequestPart],
                         context: ChannelHandlerContext) {
        dropUpstream()
        phase = .connecting(exchange, buffered: parts)
        holdReads = true
        let pool = self.pool
        let handler = UpstreamHandler(downstream: self, pool: pool)
        // The target's channel is made on this event loop, so its initializer runs here too.
        let bound = NIOLoopBound(handler, eventLoop: context.eventLoop)
        Upstream.connect(to: routeTarget, on: context.eventLoop, timeout: gateway.configuration.upstreamTimeout) { channel in
            channel.eventLoop.makeCompletedFuture {
                // Framing is written by the gateway (RequestRules, HTTPForwarding), not
                // guessed by the encoder from the method. Bytes a target sends right after
                // its 101 belong to the new protocol: keep them. No outbound header
                // validation: every field sent is one RequestDecoder accepted from the
                // client (no CR, LF or NUL) or one the gateway writes (addresses, the Host
                // the decoder accepted, framing it computed).
                var encoder = HTTPRequestEncoder.Configuration()
                encoder.automaticallySetFramingHeaders = false
                try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes,
                                                                         enableOutboundHeaderValidation: false,
                                                                         encoderConfiguration: encoder)
                try channel.pipeline.syncOperations.addHandler(bound.value)
            }
        }.assumeIsolated().whenComplete { result in
            self.connected(result, target: routeTarget, handler: handler)
        }
    }

    private func connected(_ result: Result<any Channel, any Error>, target: RouteTarget, handler: UpstreamHandler) {
        guard let context, case .connecting(var exchange, let buffered) = phase else {
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch result {
        case .success(let channel) where channel.isActive:
            let link = UpstreamLink(target: target, channel: channel, handler: handler)
            handler.link = link
            upstream = link
            phase = .forwarding(exchange)
            send(buffered, to: link, context: context)
        case .success:
            phase = .forwarding(exchange)
            respondWithError(&exchange, .badGateway, "The service closed the connection without answering.", context: context)
        case .failure(let error):
            var timedOut = false
            if case ChannelError.connectTimeout = error { timedOut = true }
            phase = .forwarding(exchange)
            respondWithError(&exchange, timedOut ? .gatewayTimeout : .badGateway,
                             timedOut ? "The service did not answer in time." : "The service refused the connection.",
                             context: context)
        }
        drain()
    }

    private func send(_ parts: [HTTPClientRequestPart], to link: UpstreamLink, context: ChannelHandlerContext) {
        for part in parts { link.channel.write(part, promise: nil) }
        link.channel.flush()
        holdReads = !link.channel.isWritable
        if !holdReads { resumeReading(context) }
        // The target's time to answer runs from the end of the request: a long upload is
        // not a slow target.
        if case .forwarding(let exchange) = phase, exchange.requestEnded {
            armTimer(gateway.configuration.upstreamTimeout, context: context)
        }
    }

    /// Answers a request the gateway refuses itself, before anything went to a target. A
    /// request with a body closes the connection after the answer; one without keeps it.
    private func refuse(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String, hasBody: Bool) {
        if hasBody { exchange.keepAlive = false }
        phase = .refused
        answer(&exchange, status, message, closeAtOnce: false)
    }

    /// Writes the gateway's own answer to the request in progress. With `closeAtOnce`
    /// (framing that cannot be trusted, or a malformed request), nothing the client sent
    /// after it is read as a request: the connection closes after the answer.
    private func answer(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String, closeAtOnce: Bool) {
        guard let context else { return }
        if closeAtOnce {
            exchange.keepAlive = false
            requestOpen = false
            phase = .closing
            queue.removeAll()
        }
        exchange.status = Int(status.code)
        let body = page(status, message)
        exchange.bytes = exchange.method == .HEAD ? 0 : body.readableBytes
        writeResponse(status, body: body, method: exchange.method, version: exchange.version, keepAlive: exchange.keepAlive,
                      context: context)
        logAccess(exchange, status: Int(status.code))
    }

    /// Answers with an error once the request is with (or was meant for) a target: 502, 504.
    /// The connection closes after it unless the whole request was read.
    private func respondWithError(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String,
                                  context: ChannelHandlerContext) {
        dropUpstream()
        stopTimer()
        exchange.keepAlive = exchange.keepAlive && exchange.requestEnded
        phase = exchange.requestEnded ? .idle : .refused
        if exchange.keepAlive { armTimer(gateway.configuration.idleTimeout, context: context) }
        answer(&exchange, status, message, closeAtOnce: false)
        holdReads = false
        resumeReading(context)
    }

    private func page(_ status: HTTPResponseStatus, _ message: String) -> ByteBuffer {
        ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n\n\(message)\n")
    }

    /// The gateway's own answer, framed by its length (the length a GET would get, for HEAD).
    private func writeResponse(_ status: HTTPResponseStatus, body: ByteBuffer, method: HTTPMethod, version: HTTPVersion,
                               keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeEnd(nil, closing: !keepAlive, context: context)
        if !keepAlive { closeAfterLastWrite(context: context) }
    }

    /// Writes and flushes a response's end; a connection that closes after it keeps the
    /// write's future (`lastWrite`), others make none.
    private func writeEnd(_ trailers: HTTPHeaders?, closing: Bool, context: ChannelHandlerContext) {
        if closing {
            lastWrite = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
        } else {
            lastWrite = nil
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    /// Closes once the last response is written. With `linger` (the client may still be
    /// sending: a refusal, a request not read to its end), the output closes first (the
    /// client reads the answer and an end rather than a reset) and the connection closes when
    /// the client closes its side or `linger` passes; nothing the client sends meanwhile is
    /// read as a request. Without (the client asked to close after a request read whole), it
    /// closes at once.
    private func closeAfterLastWrite(context: ChannelHandlerContext, linger: Bool = true) {
        dropUpstream()
        phase = .closing
        let linger = linger || !queue.isEmpty || requestOpen
        queue.removeAll()
        requestOpen = false
        let written = lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
        written.assumeIsolated().whenComplete { _ in
            context.close(mode: linger ? .output : .all, promise: nil)
        }
        if linger { armTimer(Self.linger, context: context) } else { stopTimer() }
    }

    // MARK: Responses (called by the target's handler, on this event loop)

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard let context, case .forwarding(var exchange) = phase else { return }
        switch part {
        case .head(let head):
            guard head.status != .continue else { return }
            stopTimer()
            if head.status == .switchingProtocols && !exchange.upgrade {
                // A switch nobody asked for: not passed on.
                var exchange = exchange
                return respondWithError(&exchange, .badGateway, "The service switched protocols unasked.", context: context)
            }
            exchange.responseStarted = true
            exchange.status = Int(head.status.code)
            if !head.isKeepAlive { upstream?.reusable = false }
            // The decoder stopped after a request to switch protocols: one that was not
            // switched ends the connection.
            if exchange.upgrade && head.status != .switchingProtocols { exchange.keepAlive = false }
            let downstream = HTTPForwarding.downstreamHead(head, to: exchange.method, version: exchange.version,
                                                           keepAlive: exchange.keepAlive)
            exchange.keepAlive = downstream.keepAlive
            context.write(wrapOutboundOut(.head(downstream.head)), promise: nil)
        case .body(let bytes):
            exchange.bytes += bytes.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        case .end(let trailers):
            writeEnd(trailers, closing: exchange.status == 101 || !(exchange.requestEnded && exchange.keepAlive), context: context)
            logAccess(exchange, status: exchange.status)
            if exchange.status == 101, let upstream {
                phase = .idle
                self.upstream = nil
                return switchToSplice(upstream, exchange: exchange, context: context)
            }
            replay = nil
            if exchange.requestEnded, let upstream, upstream.reusable, let pool {
                self.upstream = nil
                pool.park(upstream)
            } else {
                dropUpstream()
            }
            // A target that answered before the request's body was all sent, or a client
            // that asked for it: the connection closes after the response.
            guard exchange.requestEnded, exchange.keepAlive else {
                return closeAfterLastWrite(context: context, linger: !exchange.requestEnded)
            }
            phase = .idle
            armTimer(gateway.configuration.idleTimeout, context: context)
            return drain()
        }
        phase = .forwarding(exchange)
    }

    /// After a 101: both connections stop speaking HTTP and carry the new protocol's bytes
    /// (WebSocket frames) untouched, each HTTP handler removed, a splice in their place.
    private func switchToSplice(_ link: UpstreamLink, exchange: Exchange, context: ChannelHandlerContext) {
        stopTimer()
        let gateway = self.gateway
        let started = exchange.started
        let (near, far) = SpliceHandler.pair { fromClient, fromTarget in
            let ms = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            gateway.logger.info("upgraded", metadata: [
                "key": "\(exchange.key)", "bytes_in": "\(fromClient)", "bytes_out": "\(fromTarget)",
                "ms": "\((ms * 100).rounded() / 100)",
            ])
        }
        do {
            let client = context.pipeline.syncOperations
            try client.addHandler(near)
            let target = link.channel.pipeline.syncOperations
            try target.addHandler(far)
            // Handlers after a decoder go first: the decoder passes on, as it leaves, the bytes
            // it holds past the switch, and the splice must be next in line for them.
            if let handler = link.handler { target.removeHandler(handler, promise: nil) }
            if let validator = try? target.handler(type: NIOHTTPRequestHeadersValidator.self) {
                target.removeHandler(validator, promise: nil)
            }
            try target.removeHandler(target.handler(type: HTTPRequestEncoder.self), promise: nil)
            try target.removeHandler(target.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
            client.removeHandler(self, promise: nil)
            if let validator = try? client.handler(type: NIOHTTPResponseHeadersValidator.self) {
                client.removeHandler(validator, promise: nil)
            }
            try client.removeHandler(client.handler(type: HTTPResponseEncoder.self), promise: nil)
            try client.removeHandler(client.handler(type: ByteToMessageHandler<RequestDecoder>.self), promise: nil)
            context.channel.read()
            link.channel.read()
        } catch {
            gateway.logger.error("cannot switch \(exchange.key) to the upgraded protocol: \(error)")
            link.channel.close(promise: nil)
            context.close(promise: nil)
        }
    }

    /// Forgets the target's connection, then closes it (its close calls back into this
    /// handler, which must no longer take it for the current one).
    private func dropUpstream() {
        let link = upstream
        upstream = nil
        link?.channel.close(promise: nil)
    }

    func upstreamFlush() {
        context?.flush()
    }

    /// The target's connection closed: mid-exchange, the client gets a 502 if no response
    /// had begun, or a closed connection if one had (its response is cut short).
    func upstreamClosed(_ link: UpstreamLink) {
        guard upstream === link else { return }
        upstream = nil
        guard let context else { return }
        switch phase {
        case .forwarding(let exchange) where !exchange.responseStarted && replay != nil:
            // A pooled connection the target had closed before it took this request: the
            // same request once more, on a fresh connection.
            let parts = replay!
            replay = nil
            gateway.logger.debug("a pooled connection to \(link.target) was closed; sending again on a new one")
            connect(to: link.target, exchange: exchange, sending: parts, context: context)
        case .forwarding(var exchange):
            if exchange.responseStarted {
                logAccess(exchange, status: exchange.status)
                phase = .closing
                context.close(promise: nil)
            } else {
                respondWithError(&exchange, .badGateway, "The service closed the connection without answering.", context: context)
                drain()
            }
        case .connecting, .idle, .refused, .closing:
            break
        }
    }

    /// The target's connection can take writes again.
    func upstreamWritable() {
        guard let context else { return }
        holdReads = false
        resumeReading(context)
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: Reads, timers, log

    /// Reads only while the target takes the body and nothing waits in the queue.
    func read(context: ChannelHandlerContext) {
        if holdReads || !queue.isEmpty { pendingRead = true } else { context.read() }
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard pendingRead, !holdReads, queue.isEmpty else { return }
        pendingRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream?.handler?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    /// One limit at a time: the header timeout on a new connection, the idle timeout between
    /// requests, the upstream timeout from a request's end until its response begins, the
    /// linger time of a closing connection.
    private func armTimer(_ delay: TimeAmount, context: ChannelHandlerContext) {
        let at = NIODeadline.now() + delay
        deadline = at
        if timer == nil || timerAt > at { schedule(at, context: context) }
    }

    /// No limit until the next `armTimer` (the task, if any, finds nothing to do).
    private func stopTimer() {
        deadline = nil
    }

    private func cancelTimer() {
        deadline = nil
        timer?.cancel()
        timer = nil
    }

    private func schedule(_ at: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerAt = at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [weak self] in self?.timerDue() }
    }

    private func timerDue() {
        timer = nil
        guard let deadline, let context else { return }
        if deadline > .now() { return schedule(deadline, context: context) }
        self.deadline = nil
        timerFired()
    }

    private func timerFired() {
        guard let context else { return }
        switch phase {
        case .forwarding(var exchange) where !exchange.responseStarted:
            respondWithError(&exchange, .gatewayTimeout, "The service did not answer in time.", context: context)
            drain()
        case .idle, .closing:
            phase = .closing
            context.close(promise: nil)
        case .forwarding, .connecting, .refused:
            break
        }
    }

    private func logAccess(_ exchange: Exchange, status: Int) {
        accessLog?.record(key: exchange.key, host: exchange.host, method: exchange.method.rawValue, status: status,
                          bytes: exchange.bytes, started: exchange.started)
    }
}
