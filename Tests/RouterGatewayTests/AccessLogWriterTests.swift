#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import RouterGateway
import RouterTestSupport
import Testing

/// The access log is written off the event loops, in order, and a log that cannot keep up
/// loses lines (counted and said) rather than slowing the gateway.
@Suite("routergw: access log writer")
struct AccessLogWriterTests {
    @Test func batchesAreWrittenInOrderAndABlockedLogDropsWhatIsPastTheBacklogAndSaysSo() async throws {
        // Close-on-exec: a child process another test starts meanwhile must not inherit the write
        // end, or the read below would wait for that child's exit to see the end of the pipe.
        let pipe = try #require(closeOnExecPipe())
        let fds = [pipe.read, pipe.write]
        #expect(fcntl(pipe.write, F_GETFD) & FD_CLOEXEC != 0)
        defer { close(fds[0]) }
        let writer = AccessLogWriter(fd: fds[1])
        let line = Array("2026-12-06T10:00:00+0000 info routergw: bytes=3 host=a key=a method=GET ms=0.1 status=200 [RouterGateway] http\n".utf8)
        let batch = Array([[UInt8]](repeating: line, count: 1000).joined())
        // Nobody reads the pipe yet: its writer blocks on the first batch, the rest wait until the
        // backlog is full, then are dropped: queued without waiting, whatever the log does.
        let started = Date()
        let batches = 2 * AccessLogWriter.backlogLimit / batch.count
        for _ in 0..<batches { writer.write(batch, count: 1000) }
        #expect(Date().timeIntervalSince(started) < 5, "queueing waited for the log")
        writer.write(Array("last\n".utf8), count: 1)
        // Read everything while the writer drains, until it stops and closes its end.
        let readEnd = fds[0]
        let reading = Task.detached { readToEnd(readEnd) }
        await writer.shutdown()
        close(fds[1])
        let text = await reading.value
        let lines = text.split(separator: "\n")
        let notices = lines.filter { $0.hasPrefix("access log: ") && $0.hasSuffix(" lines dropped (standard error could not keep up)") }
        let count = notices.map { Int($0.split(separator: " ")[2]) ?? 0 }.reduce(0, +)
        // Every batch is whole: written, or dropped and counted.
        #expect(count > 0 && count % 1000 == 0, "\(notices.isEmpty ? "no line said lines were dropped" : "\(notices)")")
        #expect(lines.filter { $0.hasSuffix("[RouterGateway] http") }.count + count == batches * 1000)
        #expect(lines.last == "last")
    }
}
