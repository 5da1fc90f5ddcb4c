import HTTPTypes
import NIOCore
import NIOHTTPTypes
import RouterProtocol

/// The HTTP front end's connection bounds, one handler a connection (after the HTTP decoder):
///
/// - **The limit.** `admit` counts the connection against `--max-connections` (shared with
///   the socket); a connection over it is answered `503` with `Retry-After` to its first
///   request and closed.
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
        }
        guard refusing else { return context.fireChannelRead(data) }
        guard case .head = part else { return }
        let body = JSONWriter.encode(.object([("error", .object([
            ("code", .string("unavailable")),
            ("message", .string("routerd is at --max-connections; try again shortly")),
            ("details", .object([])),
        ]))]))
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.retryAfter] = "1"
        head.headerFields[.contentLength] = String(body.utf8.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
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
