import DomainRouter
import NIOCore
import NIOPosix
import Synchronization

/// The TCP routes' listeners: port N on the TCP address is open exactly while the replica
/// holds `tcp:N`. Each accepted connection looks its port's route up again (the route may
/// have changed since the listener opened) and is spliced to the target, or reset.
///
/// The replica's callback only notes that something changed; the listeners are reconciled
/// with the table on one event loop, so bursts of changes cost one pass.
final class TCPPortListeners: Sendable {
    private let gateway: GatewayContext
    private let host: String
    private let group: any EventLoopGroup
    private let loop: any EventLoop
    private let pending = Atomic<Bool>(false)
    private let resubscribe = Atomic<Bool>(false)
    /// Only touched on `loop`.
    private let state: NIOLoopBoundBox<State>

    struct State {
        var open: [UInt16: any Channel] = [:]
        var binding: Set<UInt16> = []
        var subscription: SubscriptionHandle?
        var stopped = false
    }

    init(gateway: GatewayContext, host: String, group: any EventLoopGroup) {
        self.gateway = gateway
        self.host = host
        self.group = group
        self.loop = group.next()
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: loop)
    }

    /// Follows the replica from now on, opening the ports its TCP routes name.
    func start() throws {
        let handle = try gateway.table.subscribe { [weak self] event in
            guard let self else { return false }
            if event.kind == .reset {
                // The replica was loaded anew, which ends callbacks: subscribe again.
                self.resubscribe.store(true, ordering: .releasing)
                self.noteChange()
                return false
            }
            if event.kind == .sync || event.route?.kind == .tcp || event.key.hasPrefix("tcp:") {
                self.noteChange()
            }
            return true
        }
        loop.execute { self.state.value.subscription = handle }
    }

    /// Closes every listener (open connections stay until they end).
    func stop() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.state.value.stopped = true
            self.state.value.subscription?.cancel()
            let channels = Array(self.state.value.open.values)
            self.state.value.open = [:]
            return EventLoopFuture.andAllComplete(channels.map { $0.close() }, on: self.loop)
        }
    }

    private func noteChange() {
        guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.execute { self.reconcile() }
    }

    private func reconcile() {
        pending.store(false, ordering: .releasing)
        guard !state.value.stopped else { return }
        if resubscribe.exchange(false, ordering: .acquiringAndReleasing) {
            do { try start() } catch { gateway.logger.error("tcp: cannot follow the replica: \(error)") }
        }
        let routes = gateway.table.list(RouteQuery(kind: .tcp), as: .admin("routergw")).routes
        var wanted = Set<UInt16>()
        for route in routes {
            if let port = UInt16(route.key.dropFirst(4)) { wanted.insert(port) }
        }
        for (port, channel) in state.value.open where !wanted.contains(port) {
            state.value.open[port] = nil
            channel.close(promise: nil)
            gateway.logger.notice("tcp: stopped listening", metadata: ["port": "\(port)"])
        }
        for port in wanted where state.value.open[port] == nil && !state.value.binding.contains(port) {
            bind(port)
        }
    }

    private func bind(_ port: UInt16) {
        state.value.binding.insert(port)
        let gateway = self.gateway
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try TCPPortListeners.accept(channel, port: port, gateway: gateway)
                }
            }
            .bind(host: host, port: Int(port))
            .hop(to: loop)
            .assumeIsolated()
            .whenComplete { result in
                self.state.value.binding.remove(port)
                switch result {
                case .success(let channel):
                    self.state.value.open[port] = channel
                    gateway.logger.notice("tcp: listening", metadata: ["port": "\(port)", "address": "\(self.host)"])
                    // The route may have gone while the port was being bound.
                    self.noteChange()
                case .failure(let error):
                    gateway.logger.error("tcp: cannot listen for tcp:\(port): \(error)", metadata: ["port": "\(port)"])
                }
            }
    }

    private static func accept(_ channel: any Channel, port: UInt16, gateway: GatewayContext) throws {
        guard gateway.admit() else {
            channel.reset()
            return
        }
        channel.closeFuture.whenComplete { _ in gateway.release() }
        guard let found = try? gateway.table.lookup(key: .tcp(port)), let target = found.route.target else {
            gateway.logger.info("tcp", metadata: ["key": "tcp:\(port)", "result": "no route or no target; reset"])
            channel.reset()
            return
        }
        let peer = channel.remoteAddress?.ipAddress.flatMap(IPAddress.init)
        if !found.route.access.isEmpty, !(peer.map(found.route.access.admits) ?? false) {
            gateway.logger.info("tcp", metadata: ["key": "tcp:\(port)", "result": "address not allowed; reset"])
            channel.reset()
            return
        }
        _ = Splice.connect(channel, to: target, key: found.route.key, protocol: "tcp", holdingReads: true, gateway: gateway)
    }
}
