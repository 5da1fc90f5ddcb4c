import Logging
import NIOCore
import NIOHTTP1

// After a 101 (WebSocket): both connections stop speaking HTTP and carry bytes untouched.
extension HTTPProxyHandler {
    /// After a 101: both connections stop speaking HTTP and carry the new protocol's bytes
    /// (WebSocket frames) untouched, each HTTP handler removed, a splice in their place.
    func switchToSplice(_ link: UpstreamLink, exchange: Exchange, context: ChannelHandlerContext) {
        stopTimer()
        let gateway = self.gateway
        let started = exchange.started
        let (near, far) = SpliceHandler.pair { fromClient, fromTarget in
            let ms = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            gateway.logger.info("upgraded", metadata: [
                "key": "\(exchange.key)", "bytes_in": "\(fromClient)", "bytes_out": "\(fromTarget)",
                "ms": "\((ms * 100).rounded() / 100)",
            ])
        }
        do {
            let client = context.pipeline.syncOperations
            try client.addHandler(near)
            let target = link.channel.pipeline.syncOperations
            try target.addHandler(far)
            // The target's handler leaves after the splice joined: as it leaves it passes on the
            // bytes it holds past the switch, and the splice must be next in line for them.
            if let handler = link.handler { target.removeHandler(handler, promise: nil) }
            // As this handler leaves, it passes on what the client sent past the switch.
            client.removeHandler(self, promise: nil)
            context.channel.read()
            link.channel.read()
        } catch {
            gateway.logger.error("cannot switch \(exchange.key) to the upgraded protocol: \(error)")
            link.channel.close(promise: nil)
            closeClient(context)
        }
    }
}
