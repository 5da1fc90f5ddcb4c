import DomainRouter
import NIOCore
import ServiceLifecycle
import Synchronization

/// Removes routes whose time is up (TTLs, sessions past their grace), with their events, every
/// 200 ms, which keeps removal well within a second of a deadline; and once the table has
/// emptied, has it give its storage back. It runs on an event loop rather than in a Swift task:
/// expiry must not wait for a busy cooperative thread pool.
///
/// A `Service`: in a `ServiceGroup` it sweeps until graceful shutdown. Without one, `start()`
/// and `stop()` do the same.
public final class ExpirySweeper: Service, Sendable {
    /// How often the sweeper looks.
    public static let interval: TimeAmount = .milliseconds(200)

    let executor: RequestExecutor
    let loop: any EventLoop
    /// Called after the table's storage was released (the server then trims malloc).
    let released: @Sendable () -> Void
    /// The repeated sweep while it runs; `retired` once the loop is going away for good.
    private let task = Mutex<(repeated: RepeatedTask?, retired: Bool)>((nil, false))

    package init(executor: RequestExecutor, loop: any EventLoop, released: @escaping @Sendable () -> Void) {
        self.executor = executor
        self.loop = loop
        self.released = released
    }

    /// Starts sweeping (again, after `stop`); does nothing while it sweeps.
    public func start() {
        let executor = self.executor
        let released = self.released
        task.withLock { task in
            guard task.repeated == nil, !task.retired else { return }
            task.repeated = loop.scheduleRepeatedTask(initialDelay: Self.interval, delay: Self.interval) { _ in
                executor.store.expire { executor.metrics.expired($0) }
                if executor.table.releaseStorageIfEmpty() { released() }
            }
        }
    }

    /// Stops sweeping.
    public func stop() {
        task.withLock { task in
            task.repeated?.cancel()
            task.repeated = nil
        }
    }

    /// Stops sweeping for good: the server's loops are about to shut down (it could not
    /// start), so a `start` that comes later must not schedule on them.
    package func retire() {
        task.withLock { task in
            task.repeated?.cancel()
            task.repeated = nil
            task.retired = true
        }
    }

    /// Sweeps until graceful shutdown (or cancellation).
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }
}
