import DomainRouter
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The data plane: the listeners of `routergw` over a route table (a replica kept by a
/// `RouteFollower`, or any table a Swift program embeds). HTTP requests are routed by Host,
/// TLS connections by SNI (passed through untouched), TCP connections by their port.
public final class Gateway: Service, Sendable {
    private let context: GatewayContext
    private let group: any EventLoopGroup
    private let ready: @Sendable () async -> Void
    /// Whether the listeners are open (nil: not yet), and who waits to hear it.
    private let listening = Mutex<(open: Bool?, waiters: [CheckedContinuation<Bool, Never>])>((nil, []))

    /// A gateway serving `table` on the listeners `configuration` names, on `group`'s loops,
    /// once `ready` returns (a follower's `loaded`: no listener answers from an empty replica).
    public init(table: RouteTable, configuration: GatewayConfiguration, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                ready: @escaping @Sendable () async -> Void = {}) {
        self.context = GatewayContext(table: table, configuration: configuration, logger: logger, group: group)
        self.group = group
        self.ready = ready
    }

    /// Waits until ready, opens the listeners, serves until graceful shutdown, then closes
    /// them. Throws when a listener cannot be opened.
    public func run() async throws {
        let configuration = context.configuration
        await cancelWhenGracefulShutdown { await self.ready() }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else {
            settleListening(false)
            await context.accessLogWriter?.shutdown()
            return
        }
        var listeners: [any Channel] = []
        var tcp: TCPPortListeners?
        do {
            if let address = configuration.http {
                listeners.append(try await bind(address, name: "http") { channel, gateway in
                    // The proxy handler alone: it reads requests with routergw's own parser
                    // (RequestDecoder), orders pipelined requests, answers parse errors itself
                    // (after the requests before them) and writes responses as bytes, with the
                    // framing HTTPForwarding decides. A client that half-closes still gets every
                    // answer. Every field of a response is a line of the target's response as
                    // ResponseParser accepted it (a token name, no CR, LF or NUL in a value) or
                    // one of the gateway's own constants.
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPProxyHandler(gateway: gateway))
                })
            }
            if let address = configuration.tls {
                listeners.append(try await bind(address, name: "tls") { channel, gateway in
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    try SNIRouter.configure(channel, gateway: gateway)
                })
            }
            if let host = configuration.tcpHost {
                let ports = TCPPortListeners(gateway: context, host: host, group: group)
                try ports.start()
                tcp = ports
                context.logger.notice("tcp routes listen on \(host)", metadata: ["address": "\(host)"])
            }
        } catch {
            settleListening(false)
            for channel in listeners { try? await channel.close() }
            await context.accessLogWriter?.shutdown()
            throw error
        }
        settleListening(true)
        try? await gracefulShutdown()
        settleListening(false)
        for channel in listeners { try? await channel.close() }
        await context.closeIdleConnectionsAndFlushLogs()
        try? await tcp?.stop().get()
        context.logger.notice("gateway stopped")
    }

    /// Waits until every listener is open (true), or the gateway failed to open them or
    /// stopped first (false): when a service manager may be told routergw is ready.
    public func waitUntilListening() async -> Bool {
        await withCheckedContinuation { continuation in
            let now = listening.withLock { state -> Bool? in
                if let open = state.open { return open }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    private func settleListening(_ open: Bool) {
        let waiters = listening.withLock { state in
            if state.open == nil || !open { state.open = open }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: open) }
    }

    private func bind(_ address: GatewayConfiguration.Address, name: String,
                      configure: @escaping @Sendable (any Channel, GatewayContext) throws -> Void) async throws -> any Channel {
        let gateway = context
        let channel: any Channel
        do {
            channel = try await bootstrap(gateway, configure: configure).bind(host: address.host, port: address.port).get()
        } catch {
            throw ListenError(description: "cannot listen for \(name) on \(address): \(error)")
        }
        let bound = GatewayConfiguration.Address(host: address.host, port: channel.localAddress?.port ?? address.port)
        context.logger.notice("listening", metadata: ["listener": "\(name)", "address": "\(bound)"])
        return channel
    }

    private func bootstrap(_ gateway: GatewayContext,
                           configure: @escaping @Sendable (any Channel, GatewayContext) throws -> Void) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: Int32(clamping: min(context.configuration.maximumConnections, 4096)))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard gateway.admit() else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in gateway.release() }
                    try configure(channel, gateway)
                }
            }
    }
}

/// A listener that could not be opened, and why.
struct ListenError: Error, CustomStringConvertible {
    var description: String
}
