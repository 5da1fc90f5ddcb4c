import DomainRouter
import NIOCore
import NIOHTTP1

/// A connection to a target: held by one client connection's handler for one exchange, or
/// parked in its event loop's `UpstreamPool` between exchanges.
final class UpstreamLink {
    let target: RouteTarget
    let channel: any Channel
    weak var handler: UpstreamHandler?
    /// The target said `Connection: close` (or spoke HTTP/1.0): not for another request.
    var reusable = true
    /// Waiting in the pool.
    var parked = false

    init(target: RouteTarget, channel: any Channel, handler: UpstreamHandler) {
        self.target = target
        self.channel = channel
        self.handler = handler
    }
}

/// The target's side of a proxied HTTP exchange: hands response parts to the client's
/// handler, reading only while the client's connection takes writes. While its connection is
/// parked (no client's handler), anything the target sends, or its close, takes it out of the
/// pool: a parked connection says nothing until asked.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The client's handler whose exchange this connection serves; nil while parked.
    weak var downstream: HTTPProxyHandler?
    private let pool: UpstreamPool?
    /// Set once connected; the client's handler knows its target's connection by it.
    weak var link: UpstreamLink?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(downstream: HTTPProxyHandler, pool: UpstreamPool?) {
        self.downstream = downstream
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let downstream else {
            if let link { pool?.remove(link) }
            context.close(promise: nil)
            return
        }
        downstream.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        downstream?.upstreamFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let link {
            pool?.remove(link)
            downstream?.upstreamClosed(link)
        }
        context.fireChannelInactive()
    }

    /// The target closed its side: the decoder has passed on the end of a response that ran
    /// to the close, and nothing more will come, so the connection closes (out of the pool if
    /// parked; a request still waiting for its response learns it from `channelInactive`).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { downstream?.upstreamWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if downstream?.isWritable ?? true { context.read() } else { pendingRead = true }
    }

    func resumeReading() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }
}
