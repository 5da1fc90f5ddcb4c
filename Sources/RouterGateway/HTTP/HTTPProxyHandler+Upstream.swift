import NIOCore
import NIOHTTP1

// The target's side, called by its UpstreamHandler on this event loop: the response
// streamed back, the connection parked in the pool or dropped, a pooled connection found
// closed (the request sent again, once), back-pressure.
extension HTTPProxyHandler {
    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard let context, case .forwarding(var exchange) = state.phase else { return }
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
                                                           keepAlive: exchange.keepAlive, allocator: context.channel.allocator)
            exchange.keepAlive = downstream.keepAlive
            exchange.chunked = downstream.chunked
            heldHead = downstream.bytes
        case .body(let bytes):
            exchange.bytes += bytes.readableBytes
            if var head = heldHead, !exchange.chunked, bytes.readableBytes <= Self.joinedBodyLimit {
                // A small body read with its head goes out in the same write.
                heldHead = nil
                head.writeImmutableBuffer(bytes)
                context.write(wrapOutboundOut(head), promise: nil)
            } else {
                writeHeldHead(context: context)
                writeBody(bytes, chunked: exchange.chunked, context: context)
            }
        case .end(let trailers):
            writeHeldHead(context: context)
            writeEnd(trailers, chunked: exchange.chunked,
                     closing: exchange.status == 101 || !(exchange.requestEnded && exchange.keepAlive), context: context)
            logAccess(exchange, status: exchange.status)
            if exchange.status == 101, let upstream {
                state.idle()
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
            state.idle()
            armTimer(gateway.configuration.idleTimeout, context: context)
            return drain()
        }
        state.update(exchange)
    }

    /// Forgets the target's connection, then closes it (its close calls back into this
    /// handler, which must no longer take it for the current one).
    func dropUpstream() {
        let link = upstream
        upstream = nil
        link?.channel.close(promise: nil)
    }

    /// The end of a read from the target: what it brought goes to the client.
    func upstreamFlush() {
        guard let context else { return }
        writeHeldHead(context: context)
        context.flush()
    }

    /// Writes the response head waiting for the body's first bytes, if one is.
    func writeHeldHead(context: ChannelHandlerContext) {
        guard let head = heldHead else { return }
        heldHead = nil
        context.write(wrapOutboundOut(head), promise: nil)
    }

    /// The target's connection closed: mid-exchange, the client gets a 502 if no response
    /// had begun, or a closed connection if one had (its response is cut short).
    func upstreamClosed(_ link: UpstreamLink) {
        guard upstream === link else { return }
        upstream = nil
        guard let context else { return }
        switch state.upstreamClosed(canSendAgain: replay != nil) {
        case .sendAgain(let exchange):
            // A pooled connection the target had closed before it took this request: the
            // same request once more, on a fresh connection.
            let parts = replay ?? []
            replay = nil
            gateway.logger.debug("a pooled connection to \(link.target) was closed; sending again on a new one")
            connect(to: link.target, exchange: exchange, sending: parts, context: context)
        case .cut(let exchange):
            heldHead = nil
            logAccess(exchange, status: exchange.status)
            context.close(promise: nil)
        case .badGateway(var exchange):
            respondWithError(&exchange, .badGateway, "The service closed the connection without answering.", context: context)
            drain()
        case .ignore:
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
}
