import DomainRouter
import NIOCore

/// TLS pass-through: reads a new connection's ClientHello only as far as its server name,
/// looks the name up, connects to the route's target and splices the bytes through
/// untouched, the hello first. TLS ends at the target; the gateway holds no keys. No server
/// name, a miss, a hello that does not parse or does not arrive within the hello timeout,
/// and a refused target reset the connection.
final class SNIRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let gateway: GatewayContext
    private var buffered: ByteBuffer?
    private var decided = false
    private var timeout: Scheduled<Void>?

    init(gateway: GatewayContext) {
        self.gateway = gateway
    }

    /// Sets up an accepted connection of the TLS listener.
    static func configure(_ channel: any Channel, gateway: GatewayContext) throws {
        try channel.pipeline.syncOperations.addHandler(SNIRouter(gateway: gateway))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: gateway.configuration.helloTimeout) { [weak self] in
            guard let self, !self.decided else { return }
            self.decided = true
            self.gateway.logger.info("tls", metadata: ["sni": "-", "result": "no ClientHello in time; reset"])
            context.channel.reset()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if decided {
            // Read while the target is being connected: kept for it, in order.
            buffered?.writeBuffer(&bytes)
            return
        }
        if buffered == nil { buffered = bytes } else { buffered!.writeBuffer(&bytes) }
        switch ClientHello.parse(buffered!) {
        case .needMoreData:
            if buffered!.readableBytes > ClientHello.maximumLength { refuse(context, sni: "-", "a ClientHello longer than 64 KiB") }
        case .malformed:
            refuse(context, sni: "-", "not a TLS ClientHello")
        case .complete(serverName: nil):
            refuse(context, sni: "-", "no server name")
        case .complete(serverName: let name?):
            route(name, context: context)
        }
    }

    private func refuse(_ context: ChannelHandlerContext, sni: String, _ why: String) {
        decided = true
        timeout?.cancel()
        buffered = nil
        gateway.logger.info("tls", metadata: ["sni": "\(sni.prefix(255))", "result": "\(why); reset"])
        context.channel.reset()
    }

    private func route(_ name: String, context: ChannelHandlerContext) {
        decided = true
        timeout?.cancel()
        guard let found = gateway.table.lookup(host: name, source: .sni) else {
            return refuse(context, sni: name, "no route")
        }
        if !found.route.access.isEmpty, !(context.peerIP.map(found.route.access.admits) ?? false) {
            return refuse(context, sni: name, "address not allowed")
        }
        guard let target = found.route.target else {
            return refuse(context, sni: name, "tunnel offline")
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Splice.connect(context.channel, to: target, key: found.route.key, protocol: "tls", holdingReads: false,
                       gateway: gateway).whenSuccess {
            let (this, context) = bound.value
            // The splice handler follows this one: hand it the hello and what came after, then go.
            if let buffered = this.buffered {
                this.buffered = nil
                context.fireChannelRead(this.wrapInboundOut(buffered))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(this, promise: nil)
        }
    }
}
