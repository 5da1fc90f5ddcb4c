import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// `GET /watch` clients that stop reading: cut within the socket's bounds, with the socket's
/// error, counted, and their memory let go.
@Suite("HTTP watchers that do not read", .serialized)
struct SlowWatcherTests {
    let token = String(repeating: "w", count: 24)

    /// A routerd with the HTTP API and small watcher bounds.
    final class Daemon {
        let routerd: RouterdProcess
        let port: Int
        let directory = makeTemporaryDirectory("slowwatch-")

        init(token: String) throws {
            try "ops \(token) admin\n".write(toFile: directory + "/tokens", atomically: false, encoding: .utf8)
            chmod(directory + "/tokens", 0o600)
            routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "notice",
                                          "--http", "127.0.0.1:0", "--http-tokens", directory + "/tokens",
                                          "--watcher-buffer", "64", "--watcher-buffer-bytes", "256k"])
            port = try routerd.httpPort()
        }

        deinit {
            _ = try? routerd.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// A number from `stats` over the socket.
        func watchers() throws -> Int {
            let client = try LineClient(path: routerd.socket)
            defer { client.close() }
            return Int(try client.request(#"{"op":"stats"}"#)["result"]?["watchers"]?.integerValue ?? -1)
        }

        /// `router_slow_consumers_total` from `/metrics`.
        func slowConsumers() -> Int {
            let fd = connectTCP(port: port)
            guard fd >= 0 else { return -1 }
            defer { close(fd) }
            let request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            let text = String(decoding: readAll(fd, timeout: 10), as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix("router_slow_consumers_total ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "").map { Int($0) } } ?? -1
        }

        /// Adds `count` routes with long labels through one pipelined socket connection.
        func addRoutes(_ count: Int) throws {
            let client = try LineClient(path: routerd.socket)
            defer { client.close() }
            let padding = String(repeating: "x", count: 200)
            var batch = ""
            for i in 0..<count {
                batch += #"{"op":"add","key":"r\#(i)","tunnel":"t","labels":{"pad":"\#(padding)"}}"# + "\n"
            }
            try client.send(String(batch.dropLast()))
            for _ in 0..<count { _ = try client.readJSON(timeout: 60) }
        }
    }

    /// Opens `GET /watch` on a TCP connection with a small receive buffer and reads up to the
    /// `sync` event; returns the descriptor, left unread from then on.
    func openWatch(_ daemon: Daemon) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(daemon.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect: \(errno)")
        let request = "GET /watch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var seen: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        while !String(decoding: seen, as: UTF8.self).contains("event: sync"), Date() < deadline {
            let chunk = readSome(fd, timeout: 1)
            seen += chunk
        }
        try #require(String(decoding: seen, as: UTF8.self).contains("event: sync"), "no sync: \(String(decoding: seen, as: UTF8.self))")
        return fd
    }

    @Test func aWatcherThatNeverReadsIsCutCountedAndItsStreamEndsWithTheError() throws {
        let daemon = try Daemon(token: token)
        let fd = try openWatch(daemon)
        defer { close(fd) }
        #expect(try eventually { try daemon.watchers() == 1 }, "an HTTP watcher counts in stats")
        #expect(daemon.slowConsumers() == 0)
        // Far more than the 256 KiB bound and the kernel's buffers, while the client reads nothing.
        try daemon.addRoutes(20_000)
        #expect(eventually(timeout: 30) { daemon.slowConsumers() == 1 }, "cut and counted")
        #expect(try eventually { try daemon.watchers() == 0 }, "no longer counted")
        // The client reads again at once: what was in flight, then the error as the last event,
        // then the end of the stream.
        let rest = String(decoding: readAll(fd, timeout: 20), as: UTF8.self)
        let lastEvent = rest.components(separatedBy: "\n\n").last { $0.contains("event: ") }
        #expect(lastEvent?.contains("event: error") == true && lastEvent?.contains(#""code":"slow_consumer""#) == true,
                "last event: \(lastEvent ?? "none"), \(rest.utf8.count) bytes read")
        #expect(rest.hasSuffix("0\r\n\r\n"), "the chunked body ends properly")
    }

    @Test func aWatcherThatNeverReadsAgainIsClosed() throws {
        let daemon = try Daemon(token: token)
        let fd = try openWatch(daemon)
        defer { close(fd) }
        try daemon.addRoutes(20_000)
        #expect(eventually(timeout: 30) { daemon.slowConsumers() == 1 })
        #expect(try eventually { try daemon.watchers() == 0 })
        // Not reading at all: the connection is closed after the grace (the kernel's buffers
        // hold what was sent; the read ends at the close).
        let started = Date()
        _ = readAll(fd, timeout: 30)
        #expect(Date().timeIntervalSince(started) < 30, "closed")
    }
}

/// Reads what is there within `timeout` seconds (at least one byte unless the peer closed).
func readSome(_ fd: Int32, timeout: Double) -> [UInt8] {
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 65536)
    let n = recv(fd, &buffer, buffer.count, 0)
    return n > 0 ? Array(buffer[..<n]) : []
}

/// Reads until the peer closes (or `timeout` seconds pass without a byte).
func readAll(_ fd: Int32, timeout: Double) -> [UInt8] {
    var all: [UInt8] = []
    while true {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return all }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return all }
        all += buffer[..<n]
    }
}
