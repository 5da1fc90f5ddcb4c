import NIOCore
import NIOHTTP1

// What the gateway answers itself (its error pages, 4xx and 5xx), how a response ends, how
// a connection closes after it (at once, or lingering), and the access log line.
extension HTTPProxyHandler {
    /// Answers a request the gateway refuses itself, before anything went to a target. A
    /// request with a body closes the connection after the answer; one without keeps it.
    func refuse(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String, hasBody: Bool) {
        if hasBody { exchange.keepAlive = false }
        state.refused()
        answer(&exchange, status, message, closeAtOnce: false)
    }

    /// Writes the gateway's own answer to the request in progress. With `closeAtOnce`
    /// (framing that cannot be trusted, or a malformed request), nothing the client sent
    /// after it is read as a request: the connection closes after the answer.
    func answer(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String, closeAtOnce: Bool) {
        guard let context else { return }
        if closeAtOnce {
            exchange.keepAlive = false
            state.closing()
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
    func respondWithError(_ exchange: inout Exchange, _ status: HTTPResponseStatus, _ message: String,
                                  context: ChannelHandlerContext) {
        dropUpstream()
        stopTimer()
        exchange.keepAlive = exchange.keepAlive && exchange.requestEnded
        state.answered(requestEnded: exchange.requestEnded)
        if exchange.keepAlive { armTimer(gateway.configuration.idleTimeout, context: context) }
        answer(&exchange, status, message, closeAtOnce: false)
        holdReads = false
        resumeReading(context)
    }

    func page(_ status: HTTPResponseStatus, _ message: String) -> ByteBuffer {
        ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n\n\(message)\n")
    }

    /// The gateway's own answer, framed by its length (the length a GET would get, for HEAD).
    func writeResponse(_ status: HTTPResponseStatus, body: ByteBuffer, method: HTTPMethod, version: HTTPVersion,
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
    func writeEnd(_ trailers: HTTPHeaders?, closing: Bool, context: ChannelHandlerContext) {
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
    func closeAfterLastWrite(context: ChannelHandlerContext, linger: Bool = true) {
        dropUpstream()
        let linger = state.closing() || linger
        let written = lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
        written.assumeIsolated().whenComplete { _ in
            context.close(mode: linger ? .output : .all, promise: nil)
        }
        if linger { armTimer(Self.linger, context: context) } else { stopTimer() }
    }

    func logAccess(_ exchange: Exchange, status: Int) {
        accessLog?.record(key: exchange.key, host: exchange.host, method: exchange.method.rawValue, status: status,
                          bytes: exchange.bytes, started: exchange.started)
    }
}
