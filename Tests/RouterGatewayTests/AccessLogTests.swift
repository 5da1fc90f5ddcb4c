#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOEmbedded
@testable import RouterGateway
import RouterTestSupport
import Testing

/// An access log line carries the Host asked for as a name, lower case: a hostile header cannot
/// forge a field or a line of its own.
@Suite("routergw: access log lines")
struct AccessLogLineTests {
    @Test func aHostIsWrittenLowerCaseAndAnythingButANameBecomesAQuestionMark() async throws {
        // Close-on-exec: a child process another test starts meanwhile must not inherit the write
        // end, or the read below would wait for that child's exit to see the end of the pipe.
        let pipe = try #require(closeOnExecPipe())
        let fds = [pipe.read, pipe.write]
        defer { close(fds[0]) }
        let writer = AccessLogWriter(fd: fds[1])
        let loop = EmbeddedEventLoop()
        let log = AccessLog(loop: loop, writer: writer)
        let hosts = ["app.example.com:8080", "App.Example.COM", "evil.example.com\r\n2026 info x status=200", "[::1]:80", "",
                     String(repeating: "a", count: 300)]
        for host in hosts {
            log.record(key: "k", host: host, method: "GET", status: 200, bytes: 1, started: .now())
        }
        loop.run()  // the iteration ends: its lines go to the writer
        await writer.shutdown()
        close(fds[1])
        let lines = readToEnd(fds[0]).split(separator: "\n").map(String.init)
        let written = lines.map { line in line.split(separator: " ").first { $0.hasPrefix("host=") }.map { String($0.dropFirst(5)) } }
        #expect(lines.count == hosts.count, "\(lines)")
        #expect(written == ["app.example.com:8080", "app.example.com", "evil.example.com??2026?info?x?status?200", "[::1]:80", "-",
                            String(repeating: "a", count: 255)], "\(lines)")
        #expect(lines.allSatisfy { $0.hasSuffix(" [RouterGateway] http") && $0.contains(" key=k method=GET ") })
    }
}
