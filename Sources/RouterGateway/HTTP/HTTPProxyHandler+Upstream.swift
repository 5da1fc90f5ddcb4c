import NIOCore
import NIOHTTP1

// The target's side, called by its UpstreamHandler on this event loop: the response
// streamed back, the connection parked in the pool or dropped, a pooled connection found
// closed (the request sent again, once), back-pressure.
extension HTTPProxyHandler {
    func upstreamRead(_ event: ResponseParser.Event) {
        guard let context, case .forwarding(var exchange) = state.phase else { return }
        switch event {
        case .head(let head):
            stopTimer()
            if head.status == 101 && (!exchange.upgrade || head.upgrade == nil) {
                // A switch nobody asked for: not passed on.
                var exchange = exchange
                return respondWithError(&exchange, .badGateway, "The service switched protocols unasked.", context: context)
            }
            exchange.responseStarted = true
            exchange.status = head.status
            if !head.keepAlive { upstream?.reusable = false }
            // The client's decoder stopped after a request to switch protocols: one that was
            // not switched ends the connection.
            if exchange.upgrade && head.status != 101 { exchange.keepAlive = false }
            let downstream = HTTPForwarding.downstreamHead(head, version: exchange.version, keepAlive: exchange.keepAlive,
                                                           allocator: context.channel.allocator)
            exchange.keepAlive = downstream.keepAlive
            exchange.chunked = downstream.chunked
            heldHead = downstream.bytes
        case .body(let bytes):
            exchange.bytes += bytes.readableBytes
            if var head = heldHead, !exchange.chunked, bytes.readableBytes <= Self.joinedBodyLimit {
                // A small body read with its head goes out in the same write.
                heldHead = nil
                head.writeImmutableBuffer(bytes)
                writeToClient(head, context: context)
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

    /// The target's bytes are not a response (`ResponseParser` says why): nothing of it is
    /// passed on that was not already, the request is not sent again, and the client gets a
    /// 502 if no response had begun, or a closed connection if one had.
    func upstreamMalformed(_ link: UpstreamLink, _ error: any Error) {
        guard upstream === link, let context else { return }
        upstream = nil
        replay = nil
        heldHead = nil
        link.channel.close(promise: nil)
        gateway.logger.debug("the response from \(link.target) is not valid HTTP/1.1: \(error)")
        switch state.upstreamClosed(canSendAgain: false) {
        case .cut(let exchange):
            logAccess(exchange, status: exchange.status)
            closeClient(context)
        case .badGateway(var exchange):
            respondWithError(&exchange, .badGateway, "The service's response is not valid HTTP/1.1.", context: context)
            drain()
        case .sendAgain, .ignore:
            break
        }
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
        flushClient(context)
    }

    /// Writes the response head waiting for the body's first bytes, if one is.
    func writeHeldHead(context: ChannelHandlerContext) {
        guard let head = heldHead else { return }
        heldHead = nil
        writeToClient(head, context: context)
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
            closeClient(context)
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
