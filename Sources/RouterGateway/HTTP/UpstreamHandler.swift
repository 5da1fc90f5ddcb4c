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
    /// Bytes were written to the connection since its last flush: a flush with nothing to
    /// send still walks the channel's pipeline, so flushes are made only when this is set.
    var unflushed = false

    /// Writes request bytes the gateway framed; they go out at the next `flush()`.
    func write(_ bytes: ByteBuffer) {
        channel.write(bytes, promise: nil)
        unflushed = true
    }

    /// Sends what was written since the last flush, if anything was: at the end of this event
    /// loop iteration with `batch`, at once without.
    func flush(_ batch: FlushBatch?) {
        guard unflushed else { return }
        unflushed = false
        if let batch { batch.add(channel) } else { channel.flush() }
    }

    init(target: RouteTarget, channel: any Channel, handler: UpstreamHandler) {
        self.target = target
        self.channel = channel
        self.handler = handler
    }
}

/// The target's side of a proxied HTTP exchange: reads the target's responses with a
/// `ResponseParser` and hands what it reads to the client's handler, reading only while the
/// client's connection takes writes. Requests go out as the bytes the client's handler wrote
/// (`HTTPForwarding.upstreamHead`, its own chunk framing), each announced first by its method
/// (`expectResponse(to:)`). While its connection is parked (no client's handler), anything
/// the target sends, or its close, takes it out of the pool: a parked connection says nothing
/// until asked.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    /// After a 101, the new protocol's first bytes, to the splice.
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The client's handler whose exchange this connection serves; nil while parked.
    weak var downstream: HTTPProxyHandler?
    private let pool: UpstreamPool?
    /// Set once connected; the client's handler knows its target's connection by it.
    weak var link: UpstreamLink?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var parser = ResponseParser()
    /// What the target sent that the parser has not used: part of a message, or after a 101
    /// the new protocol's first bytes, passed on when this handler leaves the pipeline.
    private var unread = ByteBuffer()

    init(downstream: HTTPProxyHandler, pool: UpstreamPool?) {
        self.downstream = downstream
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // Replaced by a splice after a 101: what followed the switch is the new protocol's.
        if unread.readableBytes > 0 {
            let bytes = unread
            unread = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(bytes))
        }
    }

    /// A request with `method` is about to be written: the next response answers it.
    func expectResponse(to method: HTTPMethod) {
        parser.expectResponse(to: method)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let downstream else {
            if let link { pool?.remove(link) }
            context.close(promise: nil)
            return
        }
        unread.accumulate(bytes)
        do {
            // Each event may end this handler's part (the client's handler parks the
            // connection, switches it to a splice or drops it): read on only while it serves.
            while self.context != nil, self.downstream === downstream, let event = try parser.next(&unread) {
                downstream.upstreamRead(event)
            }
        } catch {
            unread = ByteBuffer()
            if let link { downstream.upstreamMalformed(link, error) }
            context.close(promise: nil)
            return
        }
        if self.context != nil, self.downstream == nil, unread.readableBytes > 0 {
            // Parked with bytes after its response's end that nobody asked for: read as the
            // next client's response they would answer the wrong request. Not reused.
            unread = ByteBuffer()
            if let link { pool?.remove(link) }
            context.close(promise: nil)
            return
        }
        // Let go of the read buffer once used: the channel reuses it for the next read.
        if unread.readableBytes == 0 { unread = ByteBuffer() }
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

    /// The target closed its side: a body that ran to the close is over, and nothing more
    /// will come, so the connection closes (out of the pool if parked; a request still waiting
    /// for its response learns it from `channelInactive`).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if let downstream, let event = try? parser.inputEnded() { downstream.upstreamRead(event) }
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
