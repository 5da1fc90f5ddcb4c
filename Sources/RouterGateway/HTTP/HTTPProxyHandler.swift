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

    let gateway: GatewayContext
    var phase = Phase.idle
    /// Between a request's head and its end: its parts are the current exchange's.
    var requestOpen = false
    var queue = CircularBuffer<Inbound>()
    var draining = false
    var context: ChannelHandlerContext?
    var upstream: UpstreamLink?
    /// This event loop's idle connections to targets.
    var pool: UpstreamPool?
    var accessLog: AccessLog?
    var cachedClientIP: String??
    /// What went to a pooled connection for the request in progress, while it can still be
    /// sent again (an idempotent request, its body so far within `replayLimit`).
    var replay: [HTTPClientRequestPart]?
    var replayBytes = 0
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
    /// The write of the last response's end: a connection closes only after it.
    var lastWrite: EventLoopFuture<Void>?

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
    func drain() {
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

    var isIdle: Bool {
        if case .idle = phase { return !requestOpen }
        return false
    }

    // MARK: Reads

    /// Reads only while the target takes the body and nothing waits in the queue.
    func read(context: ChannelHandlerContext) {
        if holdReads || !queue.isEmpty { pendingRead = true } else { context.read() }
    }

    func resumeReading(_ context: ChannelHandlerContext) {
        guard pendingRead, !holdReads, queue.isEmpty else { return }
        pendingRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream?.handler?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }
}
