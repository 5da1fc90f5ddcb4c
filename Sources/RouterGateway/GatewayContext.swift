import DomainRouter
import Logging
import Synchronization

/// What every connection handler of one gateway shares: the replica it looks routes up in,
/// the configuration, the log, and the count of open client connections.
final class GatewayContext: Sendable {
    let table: RouteTable
    let configuration: GatewayConfiguration
    let logger: Logger
    private let open = Atomic<Int>(0)

    init(table: RouteTable, configuration: GatewayConfiguration, logger: Logger) {
        self.table = table
        self.configuration = configuration
        self.logger = logger
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
