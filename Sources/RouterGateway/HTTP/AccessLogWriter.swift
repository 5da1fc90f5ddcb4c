#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Writes the access log's lines to standard error on a thread of its own, so that an event
/// loop never waits for the file (a log on a disk under writeback, or a journal that is behind,
/// can hold a `write(2)` for milliseconds, and every request on that loop would wait with it).
/// Each loop's `AccessLog` queues the lines of one loop iteration at a time; the writer takes
/// what is queued every `interval` (as nginx's `flush=` does, so that a busy gateway wakes it
/// a hundred times a second, not once a request) and writes it in order, whole lines only.
/// When more than `backlogLimit` bytes wait (standard error slower than the traffic), batches
/// are dropped, counted, and the count is written as a line of its own: the gateway never slows
/// down for its log.
final class AccessLogWriter: Sendable {
    /// The most bytes waiting to be written before batches are dropped.
    static let backlogLimit = 8 * 1024 * 1024
    /// How often the writer takes what is queued.
    static let interval = 10_000  // µs

    private struct Queue {
        var batches: [[UInt8]] = []
        var bytes = 0
        var dropped = 0
        var stopping = false
    }

    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let queue = Mutex(Queue())
    private let fd: Int32

    /// A writer to `fd` (standard error unless a test says otherwise), running until `shutdown`.
    init(fd: Int32 = 2) {
        self.fd = fd
        pool.start()
        pool.submit { _ in self.run() }
    }

    /// Queues `lines` (`count` of them) to be written after every batch queued before.
    func write(_ lines: [UInt8], count: Int) {
        queue.withLock { queue in
            if queue.bytes + lines.count > Self.backlogLimit {
                queue.dropped += count
            } else {
                queue.batches.append(lines)
                queue.bytes += lines.count
            }
        }
    }

    /// Writes what is queued, then stops the thread.
    func shutdown() async {
        queue.withLock { $0.stopping = true }
        try? await pool.shutdownGracefully()
    }

    private func run() {
        while true {
            let taken = queue.withLock { queue -> Queue in
                defer { queue = Queue(stopping: queue.stopping) }
                return queue
            }
            if taken.dropped > 0 {
                Self.writeAll(Array("access log: \(taken.dropped) lines dropped (standard error could not keep up)\n".utf8), to: fd)
            }
            for batch in taken.batches { Self.writeAll(batch, to: fd) }
            if taken.stopping { return }
            usleep(UInt32(Self.interval))
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break  // standard error is gone: the lines are dropped, the gateway goes on
                }
            }
        }
    }
}
