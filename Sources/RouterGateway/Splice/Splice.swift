import DomainRouter
import NIOCore

/// Joining a client connection to a route's target byte for byte (TLS and TCP routes).
enum Splice {
    /// Connects to `target` and splices `client` to it; a refused or silent target resets the
    /// client. The future succeeds once both ends are joined, and fails when the client was
    /// reset. With `holdingReads`, the client's side of the splice goes into its pipeline now
    /// and reads nothing until the target is there (a TCP route's new connection); otherwise
    /// it is added once the target is connected (after TLS's SNI handler, which must read).
    static func connect(_ client: any Channel, to target: RouteTarget, key: String, protocol name: String,
                        holdingReads: Bool, gateway: GatewayContext) -> EventLoopFuture<Void> {
        let started = NIODeadline.now()
        let (near, far) = SpliceHandler.pair { fromClient, fromTarget in
            let ms = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            gateway.logger.info("\(name)", metadata: [
                "key": "\(key)", "bytes_in": "\(fromClient)", "bytes_out": "\(fromTarget)",
                "ms": "\((ms * 100).rounded() / 100)",
            ])
        }
        if holdingReads {
            do { try client.pipeline.syncOperations.addHandler(near) } catch { return client.eventLoop.makeFailedFuture(error) }
        }
        // Both channels live on the client's event loop: the handlers are only touched there.
        let (nearBound, farBound) = (NIOLoopBound(near, eventLoop: client.eventLoop), NIOLoopBound(far, eventLoop: client.eventLoop))
        let connected = Upstream.connect(to: target, on: client.eventLoop, timeout: gateway.configuration.upstreamTimeout) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(farBound.value) }
        }
        return connected.flatMapThrowing { _ in
            if !holdingReads { try client.pipeline.syncOperations.addHandler(nearBound.value) }
        }.flatMapErrorThrowing { error in
            gateway.logger.info("\(name)", metadata: ["key": "\(key)", "result": "target \(target): \(error); reset"])
            nearBound.value.cancelReport()
            client.reset()
            throw GatewayError.refused
        }
    }
}

/// Why a connection was not served; the client saw a reset.
enum GatewayError: Error {
    case refused
}
