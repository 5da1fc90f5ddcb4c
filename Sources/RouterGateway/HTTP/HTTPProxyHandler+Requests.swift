import DomainRouter
import NIOCore
import NIOHTTP1

// The client side of an exchange: each request part as it arrives, the route and framing
// decided once at the head, the target's connection taken from the pool or opened, and what
// of the request is kept to send again on a fresh connection.
extension HTTPProxyHandler {
    func handle(_ part: HTTPServerRequestPart) {
        guard let context else { return }
        switch part {
        case .head(let head):
            stopTimer()
            state.headArrived()
            start(head, context: context)
        case .body(let bytes):
            // A chunked body goes as chunks of the gateway's own framing, one a part (an
            // empty part is no chunk: it would end the body).
            guard !chunkedUpstream || bytes.readableBytes > 0 else { return }
            forwardBody(chunkedUpstream ? chunk(bytes, context: context) : bytes)
        case .end(let trailers):
            if chunkedUpstream { forwardBody(lastChunk(trailers, context: context)) }
            let part = HTTPClientRequestPart.end(nil)
            switch state.endArrived(part) {
            case .forward(let awaitingResponse):
                keepForReplay(part, bytes: 0)
                if let upstream {
                    write(part, to: upstream)
                    upstream.flush(flushes)
                }
                if awaitingResponse { armTimer(gateway.configuration.upstreamTimeout, context: context) }
            case .refusalRead:
                armTimer(gateway.configuration.idleTimeout, context: context)
            case .buffered, .ignore:
                break
            }
        }
    }

    /// Writes a request part to the target's connection: a body part is bytes the gateway
    /// wrote (the head, chunks it framed); a head part only tells the connection's response
    /// parser the request's method, and an end part sends nothing (a chunked body's last
    /// chunk went as bytes before it).
    func write(_ part: HTTPClientRequestPart, to link: UpstreamLink) {
        switch part {
        case .head(let head): link.handler?.expectResponse(to: head.method)
        case .body(.byteBuffer(let bytes)): link.write(bytes)
        case .body(.fileRegion): preconditionFailure("a request body is never a file region")
        case .end: break
        }
    }

    /// The head part that stands for a request's method, before its bytes.
    static func methodHead(_ method: HTTPMethod) -> HTTPClientRequestPart {
        .head(method == .GET ? getHead : HTTPRequestHead(version: .http1_1, method: method, uri: "/"))
    }

    private static let getHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")

    /// Sends part of the request's body (framed already) to the target, or keeps it until
    /// the target's connection is open.
    func forwardBody(_ bytes: ByteBuffer) {
        let part = HTTPClientRequestPart.body(.byteBuffer(bytes))
        guard state.bodyArrived(part) == .forward, let upstream else { return }
        keepForReplay(part, bytes: bytes.readableBytes)
        write(part, to: upstream)
        if !upstream.channel.isWritable { holdReads = true }
    }

    /// `bytes` as one chunk: its size, the bytes, CRLF.
    func chunk(_ bytes: ByteBuffer, context: ChannelHandlerContext) -> ByteBuffer {
        var framed = context.channel.allocator.buffer(capacity: bytes.readableBytes + 20)
        framed.writeString(String(bytes.readableBytes, radix: 16))
        framed.writeStaticString("\r\n")
        framed.writeImmutableBuffer(bytes)
        framed.writeStaticString("\r\n")
        return framed
    }

    /// The last chunk, the client's trailer fields (as `RequestDecoder` accepted them) and the
    /// empty line that ends a chunked body.
    func lastChunk(_ trailers: HTTPHeaders?, context: ChannelHandlerContext) -> ByteBuffer {
        var last = context.channel.allocator.buffer(capacity: 64)
        last.writeStaticString("0\r\n")
        for (name, value) in trailers ?? [:] {
            last.writeString(name)
            last.writeStaticString(": ")
            last.writeString(value)
            last.writeStaticString("\r\n")
        }
        last.writeStaticString("\r\n")
        return last
    }

    /// The decoder failed: the request in progress is cut short, or, between requests, the
    /// client gets a 400 once every request before it is answered. The connection then closes.
    func malformed() {
        perform(state.malformed())
    }

    func perform(_ action: HTTPProxyState.MalformedAction) {
        guard let context else { return }
        let message = "The request is not valid HTTP/1.1."
        switch action {
        case .cut(let exchange):
            dropUpstream()
            logAccess(exchange, status: exchange.status)
            closeClient(context)
        case .answerError(var exchange):
            respondWithError(&exchange, .badRequest, message, context: context)
        case .answerAndClose:
            var exchange = Exchange(key: "-", method: .GET, version: .http1_1, keepAlive: false, started: .now())
            answer(&exchange, .badRequest, message, closeAtOnce: true)
        }
    }

    /// The client has sent all it will: once nothing is in progress, the connection closes.
    func inputEnded() {
        switch state.inputEnded() {
        case .malformed(let action): perform(action)
        case .close: if let context { closeClient(context) }
        }
    }

    func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
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
                                                    clientIP: clientIP(context), scheme: "http",
                                                    allocator: context.channel.allocator)
        chunkedUpstream = framing == .chunked
        // Room for the request's end too: kept to send again, a GET's parts are not copied to grow.
        var parts: [HTTPClientRequestPart] = []
        parts.reserveCapacity(3)
        parts.append(Self.methodHead(head.method))
        parts.append(.body(.byteBuffer(forwarded)))
        replay = nil
        if let link = pool?.take(routeTarget) {
            link.handler?.downstream = self
            upstream = link
            state.forwarding(exchange)
            if Self.idempotent(head.method) {
                replay = parts
                replayBytes = 0
            }
            send(parts, to: link, context: context)
            return
        }
        connect(to: routeTarget, exchange: exchange, sending: parts, context: context)
    }

    /// The client's address as X-Forwarded-For gives it, worked out once a connection.
    func clientIP(_ context: ChannelHandlerContext) -> String? {
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

    func keepForReplay(_ part: HTTPClientRequestPart, bytes: Int) {
        guard replay != nil else { return }
        replayBytes += bytes
        if replayBytes > Self.replayLimit { replay = nil } else { replay!.append(part) }
    }

    /// Opens a fresh connection to `target` for the request in progress; `parts` go first,
    /// and what of the request arrives meanwhile waits with them.
    func connect(to routeTarget: RouteTarget, exchange: Exchange, sending parts: [HTTPClientRequestPart],
                         context: ChannelHandlerContext) {
        dropUpstream()
        state.connecting(exchange, sending: parts)
        holdReads = true
        let pool = self.pool
        let handler = UpstreamHandler(downstream: self, pool: pool)
        // The target's channel is made on this event loop, so its initializer runs here too.
        let bound = NIOLoopBound(handler, eventLoop: context.eventLoop)
        Upstream.connect(to: routeTarget, on: context.eventLoop, timeout: gateway.configuration.upstreamTimeout) { channel in
            channel.eventLoop.makeCompletedFuture {
                // Requests go as the bytes the gateway wrote (head and framing from
                // RequestRules and HTTPForwarding): every field sent is one RequestDecoder
                // accepted from the client (no CR, LF or NUL) or one the gateway writes
                // (addresses, the Host the decoder accepted, framing it computed). Responses
                // are read by the handler's ResponseParser.
                try channel.pipeline.syncOperations.addHandler(bound.value)
            }
        }.assumeIsolated().whenComplete { result in
            self.connected(result, target: routeTarget, handler: handler)
        }
    }

    func connected(_ result: Result<any Channel, any Error>, target: RouteTarget, handler: UpstreamHandler) {
        guard let context, case let (exchange, buffered)? = state.connected() else {
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        var answered = exchange
        switch result {
        case .success(let channel) where channel.isActive:
            let link = UpstreamLink(target: target, channel: channel, handler: handler)
            handler.link = link
            upstream = link
            send(buffered, to: link, context: context)
        case .success:
            respondWithError(&answered, .badGateway, "The service closed the connection without answering.", context: context)
        case .failure(let error):
            var timedOut = false
            if case ChannelError.connectTimeout = error { timedOut = true }
            respondWithError(&answered, timedOut ? .gatewayTimeout : .badGateway,
                             timedOut ? "The service did not answer in time." : "The service refused the connection.",
                             context: context)
        }
        drain()
    }

    func send(_ parts: [HTTPClientRequestPart], to link: UpstreamLink, context: ChannelHandlerContext) {
        for part in parts { write(part, to: link) }
        link.flush(flushes)
        holdReads = !link.channel.isWritable
        if !holdReads { resumeReading(context) }
        // The target's time to answer runs from the end of the request: a long upload is
        // not a slow target.
        if case .forwarding(let exchange) = state.phase, exchange.requestEnded {
            armTimer(gateway.configuration.upstreamTimeout, context: context)
        }
    }
}
