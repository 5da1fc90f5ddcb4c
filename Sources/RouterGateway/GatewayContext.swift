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
    private let loops: [ObjectIdentifier: NIOLoopBoundBox<LoopResources>]
    /// Writes every loop's access log lines, off the loops; nil when the log level leaves them out.
    let accessLogWriter: AccessLogWriter?

    /// What the connections of one event loop share, used only on that loop.
    final class LoopResources {
        let pool: UpstreamPool
        /// Nil when the log level leaves out the per-request lines.
        let accessLog: AccessLog?
        let flushes: FlushBatch

        private init(pool: UpstreamPool, accessLog: AccessLog?, flushes: FlushBatch) {
            self.pool = pool
            self.accessLog = accessLog
            self.flushes = flushes
        }

        static func make(maximumIdle: Int, accessLog writer: AccessLogWriter?, loop: any EventLoop) -> sending LoopResources {
            LoopResources(pool: UpstreamPool(maximumIdle: maximumIdle), accessLog: writer.map { AccessLog(loop: loop, writer: $0) },
                          flushes: FlushBatch(loop: loop))
        }
    }

    init(table: RouteTable, configuration: GatewayConfiguration, logger: Logger, group: any EventLoopGroup) {
        self.table = table
        self.configuration = configuration
        self.logger = logger
        let writer = logger.logLevel <= .info ? AccessLogWriter() : nil
        var loops: [ObjectIdentifier: NIOLoopBoundBox<LoopResources>] = [:]
        for loop in group.makeIterator() {
            // Made here, off its loop, and handed over whole: only that loop ever touches it.
            loops[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                LoopResources.make(maximumIdle: configuration.maximumIdleUpstream, accessLog: writer, loop: loop),
                eventLoop: loop)
        }
        self.loops = loops
        self.accessLogWriter = writer
    }

    /// The shared parts of `loop`, one of the gateway's group; called on that loop.
    func resources(on loop: any EventLoop) -> LoopResources? {
        loops[ObjectIdentifier(loop)]?.value
    }

    /// Closes the idle connections of every loop's pool and writes out the access log.
    func closeIdleConnectionsAndFlushLogs() async {
        let done = loops.values.map { bound in
            bound.eventLoop.submit {
                bound.value.pool.closeAll()
                bound.value.accessLog?.flush()
            }
        }
        for future in done { try? await future.get() }
        await accessLogWriter?.shutdown()
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
