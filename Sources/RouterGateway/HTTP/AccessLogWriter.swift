#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Writes the access log's lines to standard error on a thread of its own, so that an event
/// loop never waits for the file (a log on a disk under writeback can hold a `write(2)` for
/// milliseconds, and every request on that loop would wait with it). Each loop's `AccessLog`
/// hands over the lines of one loop iteration at a time; batches are written in the order they
/// arrive, whole lines only. When more than `backlogLimit` bytes wait (standard error slower
/// than the traffic), batches are dropped, counted, and the count is written as a line of its
/// own once the writer catches up: the gateway never slows down for its log.
final class AccessLogWriter: Sendable {
    /// The most bytes waiting to be written before batches are dropped.
    static let backlogLimit = 8 * 1024 * 1024

    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let waiting = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let fd: Int32

    /// A writer to `fd` (standard error unless a test says otherwise).
    init(fd: Int32 = 2) {
        self.fd = fd
        pool.start()
    }

    /// Queues `lines` (`count` of them) to be written after every batch queued before.
    func write(_ lines: [UInt8], count: Int) {
        let size = lines.count
        guard waiting.add(size, ordering: .relaxed).newValue <= Self.backlogLimit else {
            waiting.subtract(size, ordering: .relaxed)
            dropped.add(count, ordering: .relaxed)
            return
        }
        pool.submit { _ in
            let lost = self.dropped.exchange(0, ordering: .relaxed)
            if lost > 0 {
                Self.writeAll(Array("access log: \(lost) lines dropped (standard error could not keep up)\n".utf8), to: self.fd)
            }
            Self.writeAll(lines, to: self.fd)
            self.waiting.subtract(size, ordering: .relaxed)
        }
    }

    /// Writes what is queued, then stops the thread.
    func shutdown() async {
        try? await pool.shutdownGracefully()
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
