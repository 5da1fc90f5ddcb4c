import DomainRouter
import Logging
import NIOCore
import NIOHTTP1

/// Serves one client connection of the HTTP listener: routes each request by its Host header
/// through the replica, forwards it to the route's target and streams the response back.
///
/// Requests are served one at a time, in order: what a client pipelines behind the request in
/// progress waits its turn in `state` (reading stops while anything waits), and so do a parse error
/// and the end of the client's input, so that every request before them is answered first
/// (RFC 9112 §9.3.2). Nothing of a request goes upstream before `RequestRules` has decided its
/// framing, and the head sent carries framing the gateway wrote. A connection to a target whose
/// response was read to its end goes back to the event loop's `UpstreamPool` for the next
/// request of any client to that target; an idempotent request sent on a pooled connection
/// that the target had closed is sent again, once, on a fresh one. Bodies stream both ways with
/// back-pressure: this side reads only while the target's connection takes writes, and the
/// target's side reads only while this connection does.
final class HTTPProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// The client's bytes, read into requests by `decoder` here: no decoder in the pipeline.
    typealias InboundIn = ByteBuffer
    /// After a 101, what the client sent past the switch, to the splice.
    typealias InboundOut = ByteBuffer
    /// Responses go out as bytes the handler writes itself (`HTTPForwarding.downstreamHead`,
    /// its own answers, chunk framing): no encoder between it and the socket.
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    typealias Exchange = HTTPProxyState.Exchange

    /// How long a closing connection waits for the client to close its side.
    static let linger = TimeAmount.seconds(2)

    let gateway: GatewayContext
    /// The exchange's phase, the open request and what waits its turn: decided there, done here.
    var state = HTTPProxyState()
    var decoder = RequestDecoder()
    /// What the client sent that the decoder has not used: part of a request, or after a
    /// switch of protocols the new protocol's first bytes, passed on as this handler leaves.
    var unread = ByteBuffer()
    var draining = false
    var context: ChannelHandlerContext?
    var upstream: UpstreamLink?
    /// This event loop's idle connections to targets.
    var pool: UpstreamPool?
    /// This event loop's flushes, made at the end of its iteration.
    var flushes: FlushBatch?
    var accessLog: AccessLog?
    var cachedClientIP: String??
    /// What went to a pooled connection for the request in progress, while it can still be
    /// sent again (an idempotent request, its body so far within `replayLimit`).
    var replay: [HTTPClientRequestPart]?
    var replayBytes = 0
    /// The request in progress goes to the target chunked: its body parts are framed here.
    var chunkedUpstream = false
    /// The largest body kept to send again when a pooled connection turns out closed.
    static let replayLimit = 64 * 1024
    var pendingRead = false
    var holdReads = false
    /// When the current phase's time runs out (header, idle, upstream or linger timeout);
    /// nil: no limit now.
    var deadline: NIODeadline?
    /// The connection's one scheduled task, due at `timerAt`, never later than `deadline`:
    /// a deadline that moves later (every request moves it) leaves the task as it is, and the
    /// task, when due, waits on for what is left, so requests do not schedule and cancel tasks.
    var timer: Scheduled<Void>?
    var timerAt = NIODeadline.distantFuture
    /// The response head read from the target and not yet written: the body's first bytes,
    /// when they come in the same read and are few, go out with it in one write.
    var heldHead: ByteBuffer?
    /// The largest body part joined to its head's write.
    static let joinedBodyLimit = 4096
    /// The write of the last response's end: a connection closes only after it.
    var lastWrite: EventLoopFuture<Void>?
    /// Bytes were written to the client since the last flush (`flushClient`).
    var unflushed = false

    init(gateway: GatewayContext) {
        self.gateway = gateway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let resources = gateway.resources(on: context.eventLoop)
        pool = resources?.pool
        flushes = resources?.flushes
        accessLog = resources?.accessLog
        armTimer(gateway.configuration.headerTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancelTimer()
        if unread.readableBytes > 0 {
            let bytes = unread
            unread = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(bytes))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        let exchange = state.inactive()
        dropUpstream()
        if let exchange { logAccess(exchange, status: exchange.responseStarted ? exchange.status : 499) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unread.accumulate(unwrapInboundIn(data))
        do {
            while let part = try decoder.next(&unread) { state.arrived(.part(part)) }
        } catch {
            state.arrived(.malformed)
        }
        // Let go of the read buffer once used: the channel reuses it for the next read.
        if unread.readableBytes == 0 || decoder.isDone { unread = ByteBuffer() }
        drain()
    }

    /// What a read cycle wrote to the target goes out at its end, in one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.flush(flushes)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeClient(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            do {
                try decoder.inputEnded(unread)
            } catch {
                state.arrived(.malformed)
            }
            state.arrived(.inputClosed)
            drain()
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Handles what waits its turn while the exchange in progress can take it (the state
    /// says which). Re-entered calls (an answer written here can end an exchange) leave the
    /// work to the outer loop.
    func drain() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        loop: while true {
            switch state.next() {
            case .handle(.part(let part)): handle(part)
            case .handle(.malformed): malformed()
            case .handle(.inputClosed): inputEnded()
            case .closeAfterLastWrite:
                // Lingering: the client closing its side ends the wait, once the answer is out.
                if let context {
                    let written = lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
                    written.assumeIsolated().whenComplete { _ in self.closeClient(context) }
                }
                break loop
            case .wait:
                break loop
            }
        }
        if state.nothingWaiting, let context { resumeReading(context) }
    }

    // MARK: Reads

    /// Reads only while the target takes the body and nothing waits in the queue.
    func read(context: ChannelHandlerContext) {
        if holdReads || !state.nothingWaiting { pendingRead = true } else { context.read() }
    }

    func resumeReading(_ context: ChannelHandlerContext) {
        guard pendingRead, !holdReads, state.nothingWaiting else { return }
        pendingRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream?.handler?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }
}
