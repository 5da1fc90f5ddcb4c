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
        var bytes = context.channel.allocator.buffer(capacity: 160 + body.readableBytes)
        bytes.writeStaticString(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        bytes.writeString("\(status.code) \(status.reasonPhrase)\r\n")
        bytes.writeStaticString("Content-Type: text/plain; charset=utf-8\r\n")
        bytes.writeString("Content-Length: \(body.readableBytes)\r\n")
        bytes.writeStaticString("Cache-Control: no-store\r\n")
        if !keepAlive { bytes.writeStaticString("Connection: close\r\n") }
        bytes.writeStaticString("\r\n")
        if method != .HEAD { bytes.writeImmutableBuffer(body) }
        writeToClient(bytes, context: context)
        writeEnd(nil, chunked: false, closing: !keepAlive, context: context)
        if !keepAlive { closeAfterLastWrite(context: context) }
    }

    /// Writes part of a response's body, framed as a chunk when the head said chunked (an
    /// empty part is no chunk: it would end the body).
    func writeBody(_ bytes: ByteBuffer, chunked: Bool, context: ChannelHandlerContext) {
        guard chunked else { return writeToClient(bytes, context: context) }
        guard bytes.readableBytes > 0 else { return }
        var size = context.channel.allocator.buffer(capacity: 20)
        size.writeString(String(bytes.readableBytes, radix: 16))
        size.writeStaticString("\r\n")
        writeToClient(size, context: context)
        writeToClient(bytes, context: context)
        writeToClient(Self.crlf, context: context)
    }

    /// Closes the client's connection (`mode`) after sending what was written to it and not yet
    /// flushed (a flush waiting for the end of the event loop iteration would come too late).
    func closeClient(_ context: ChannelHandlerContext, mode: CloseMode = .all) {
        unflushed = false
        context.flush()
        context.close(mode: mode, promise: nil)
    }

    /// Writes response bytes to the client; they go out at the next `flushClient`.
    func writeToClient(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(bytes), promise: nil)
        unflushed = true
    }

    /// Sends what was written to the client since the last flush, if anything was (a flush
    /// with nothing to send still walks the pipeline), at the end of this event loop iteration.
    func flushClient(_ context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        if let flushes { flushes.add(context.channel) } else { context.flush() }
    }

    static let crlf = ByteBuffer(string: "\r\n")

    /// Writes (the last chunk and trailers, when chunked) and flushes a response's end; a
    /// connection that closes after it keeps the write's future (`lastWrite`), others make none.
    func writeEnd(_ trailers: ByteBuffer?, chunked: Bool, closing: Bool, context: ChannelHandlerContext) {
        var end = ByteBuffer()
        if chunked {
            end = context.channel.allocator.buffer(capacity: 5 + (trailers?.readableBytes ?? 0))
            end.writeStaticString("0\r\n")
            if let trailers { end.writeImmutableBuffer(trailers) }  // field lines as the target sent them
            end.writeStaticString("\r\n")
        }
        if closing {
            unflushed = false
            lastWrite = context.writeAndFlush(wrapOutboundOut(end))
        } else {
            lastWrite = nil
            if chunked { writeToClient(end, context: context) }
            flushClient(context)
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
            self.closeClient(context, mode: linger ? .output : .all)
        }
        if linger { armTimer(Self.linger, context: context) } else { stopTimer() }
    }

    func logAccess(_ exchange: Exchange, status: Int) {
        accessLog?.record(key: exchange.key, host: exchange.host, method: exchange.method.rawValue, status: status,
                          bytes: exchange.bytes, started: exchange.started)
    }
}
