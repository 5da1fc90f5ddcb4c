import DomainRouter
import Logging
import NIOCore
import Synchronization

/// What every connection handler of one gateway shares: the replica it looks routes up in,
/// the configuration, the log, the count of open client connections, and each event loop's
/// pool of idle connections to targets.
final class GatewayContext: Sendable {
    let table: RouteTable
    let configuration: GatewayConfiguration
    let logger: Logger
    private let open = Atomic<Int>(0)
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>]

    init(table: RouteTable, configuration: GatewayConfiguration, logger: Logger, group: any EventLoopGroup) {
        self.table = table
        self.configuration = configuration
        self.logger = logger
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>] = [:]
        for loop in group.makeIterator() {
            // Made here, off its loop, and handed over whole: only that loop ever touches it.
            pools[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                UpstreamPool(maximumIdle: configuration.maximumIdleUpstream), eventLoop: loop)
        }
        self.pools = pools
    }

    /// The pool of `loop`, one of the gateway's group; called on that loop.
    func pool(on loop: any EventLoop) -> UpstreamPool? {
        pools[ObjectIdentifier(loop)]?.value
    }

    /// Closes the idle connections of every loop's pool.
    func closePools() {
        for bound in pools.values {
            bound.eventLoop.execute { bound.value.closeAll() }
        }
    }

    /// Counts a new client connection; false (and not counted) when the limit is reached.
    func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now > configuration.maximumConnections {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// A counted client connection closed.
    func release() {
        open.subtract(1, ordering: .relaxed)
    }
}
