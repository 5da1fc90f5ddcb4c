import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import RouterProtocol

/// The HTTP front end's connection bounds, one handler a connection (after the HTTP decoder):
///
/// - **The limit.** `admit` counts the connection against `--max-connections` (shared with
///   the socket); a connection over it is answered `503` with `Retry-After` to its first
///   request and closed.
/// - **Requests HTTP itself refuses.** A request the HTTP parser cannot take (a header over the
///   size or count bounds, a malformed head) is answered here with the API's JSON error object
///   (`too_large` under 431, `bad_request` under 400) and the connection closed — after the
///   responses to the requests before it, when they were pipelined.
/// - **The header timeout.** A connection that has not sent a whole request head within
///   `headerTimeout` of opening (a client trickling its headers, or sending nothing) is
///   closed. Between requests on a kept-alive connection the idle timeout applies instead
///   (Hummingbird's, which also runs from the end of a response to the next complete head).
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headerTimeout: TimeAmount
    let admit: @Sendable () -> Bool
    let release: @Sendable () -> Void
    private var admitted = false
    private var refusing = false
    private var timer: Scheduled<Void>?
    /// Requests read whose response has not ended yet.
    private var inFlight = 0
    private var answeredParseError = false
    /// A parse error waiting for the responses to the requests before it.
    private var pendingParseError: HTTPParserError?

    init(headerTimeout: TimeAmount, admit: @escaping @Sendable () -> Bool, release: @escaping @Sendable () -> Void) {
        self.headerTimeout = headerTimeout
        self.admit = admit
        self.release = release
    }

    func handlerAdded(context: ChannelHandlerContext) {
        admitted = admit()
        refusing = !admitted
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted {
            admitted = false
            release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head = part {
            timer?.cancel()
            timer = nil
            inFlight += 1
        }
        guard refusing else { return context.fireChannelRead(data) }
        guard case .head = part else { return }
        answerAndClose(context: context, status: .serviceUnavailable, code: .unavailable,
                       message: "routerd is at --max-connections; try again shortly", retryAfter: true)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        inFlight = max(0, inFlight - 1)
        context.write(data, promise: promise)
        if inFlight == 0, let parse = pendingParseError {
            pendingParseError = nil
            answer(parse, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, !refusing, !answeredParseError else {
            return context.fireErrorCaught(error)
        }
        answeredParseError = true
        timer?.cancel()
        timer = nil
        if inFlight > 0 {
            pendingParseError = parse
        } else {
            answer(parse, context: context)
        }
    }

    private func answer(_ parse: HTTPParserError, context: ChannelHandlerContext) {
        if parse == .headerOverflow {
            answerAndClose(context: context, status: .requestHeaderFieldsTooLarge, code: .tooLarge,
                           message: "the request's header fields are too large or too many (at most 80 KiB in all and 1,000 fields)")
        } else {
            answerAndClose(context: context, status: .badRequest, code: .badRequest,
                           message: "the request is not valid HTTP/1.1 (\(parse)); the connection is closed")
        }
    }

    /// Writes the API's JSON error object under `status`, then closes the connection.
    private func answerAndClose(context: ChannelHandlerContext, status: HTTPResponse.Status, code: ErrorCode,
                                message: String, retryAfter: Bool = false) {
        let body = JSONWriter.encode(.object([("error", ProtocolError(code, message).object)])) + "\n"
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = "application/json"
        if retryAfter { head.headerFields[.retryAfter] = "1" }
        head.headerFields[.contentLength] = String(body.utf8.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted {
            admitted = false
            release()
        }
        context.fireChannelInactive()
    }
}

extension HTTPAPI {
    /// The handler that bounds each HTTP connection (see `HTTPConnectionGuard`), for the HTTP
    /// server's `additionalChannelHandlers`.
    package static func connectionGuard(headerTimeout: TimeAmount, admit: @escaping @Sendable () -> Bool,
                                        release: @escaping @Sendable () -> Void) -> any RemovableChannelHandler {
        HTTPConnectionGuard(headerTimeout: headerTimeout, admit: admit, release: release)
    }
}
