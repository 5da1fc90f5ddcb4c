#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterTestSupport

/// `router-bench http`: a release routerd (as a process) serving the HTTP API on a free port,
/// measured in one run: keep-alive request rates for a route lookup, for `GET /healthz` (the
/// framework's own floor) and for adds, how soon an add over the socket reaches an SSE watcher,
/// and one lookup process's wall time: `routerctl --url … lookup` beside `curl` of the same route,
/// alternated.
struct HTTPBenchmark {
    var seconds = 3.0
    let token = "benchbenchbenchbenchbench0123"

    func run() throws {
        let dir = makeTemporaryDirectory("hb-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/tokens", contents: Data("ops \(token) admin\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let port = freeTCPPort()
        let daemon = try RouterdProcess(["--http", String(port), "--http-tokens", dir + "/tokens", "--domain", "example.com",
                                         "--log-level", "warning"])
        defer { _ = try? daemon.stop() }
        var ready = false
        for _ in 0..<100 where !ready {
            let fd = Self.connect(port)
            if fd >= 0 { close(fd); ready = true } else { usleep(50_000) }
        }
        print("router-bench http: routerd --http on 127.0.0.1:\(port); \(ProcessInfoLite.cpuCount) cores; \(fmt(seconds, 1)) s per rate; 50 keep-alive connections")
        _ = try SocketBenchmark(seconds: seconds).bulkAdd(path: daemon.socket, count: 1000, prefix: "k")

        let auth = "Authorization: Bearer \(token)\r\n"
        let lookup = Array("GET /routes/k7.example.com HTTP/1.1\r\nHost: bench\r\n\(auth)\r\n".utf8)
        let health = Array("GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
        var lookups: [Double] = []
        var healths: [Double] = []
        for _ in 0..<3 {
            lookups.append(try rate(port: port) { _, _ in lookup })
            healths.append(try rate(port: port) { _, _ in health })
        }
        let adds = try rate(port: port) { c, n in
            let body = #"{"key":"a\#(c)-\#(n)","tunnel":"t"}"#
            return Array("POST /routes HTTP/1.1\r\nHost: bench\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        }
        let (sse50, sse99) = try sseDelivery(port: port, socket: daemon.socket)
        let (curl, cli) = try oneShotMilliseconds(port: port, directory: dir)
        let lookupOps = median(lookups)
        let healthOps = median(healths)
        print("")
        print("GET /routes/{key}:      \(fmt(lookupOps, 0)) req/s; GET /healthz \(fmt(healthOps, 0)) req/s; ratio \(fmt(lookupOps / healthOps, 3))  (goal ≥ 0.7)")
        print("POST /routes (new):     \(fmt(adds, 0)) req/s")
        print("SSE delivery (socket add to event): p50 \(fmt(sse50, 2)) ms, p99 \(fmt(sse99, 2)) ms  (goal p50 ≤ 1)")
        let ratio = curl.map { cli / $0 }
        print("one lookup process:     routerctl --url \(fmt(cli, 1)) ms; curl \(curl.map { fmt($0, 1) } ?? "— (not installed)") ms; ratio \(ratio.map { fmt($0, 2) } ?? "—")  (goal ≤ 2)")
        print("""
            {"bench":"http","lookup_ops":\(fmt(lookupOps, 0)),"healthz_ops":\(fmt(healthOps, 0)),"ratio_lookup_healthz":\(fmt(lookupOps / healthOps, 3)),\
            "add_ops":\(fmt(adds, 0)),"sse_delivery_p50_ms":\(fmt(sse50, 3)),"sse_delivery_p99_ms":\(fmt(sse99, 3)),\
            "curl_ms":\(curl.map { fmt($0, 2) } ?? "null"),"cli_url_ms":\(fmt(cli, 2)),"ratio_cli_url_curl":\(ratio.map { fmt($0, 3) } ?? "null")}
            """)
    }

    static func connect(_ port: Int) -> Int32 { connectTCP(port: port) }

    /// Where a whole response ends in `bytes` (head, then Content-Length bytes), if it is there.
    static func responseEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        guard bytes.count - start >= 4 else { return nil }
        var i = start
        while i + 4 <= bytes.count {
            if bytes[i] == 13 && Array(bytes[i..<i + 4]) == crlfcrlf { break }
            i += 1
        }
        guard i + 4 <= bytes.count else { return nil }
        let head = String(decoding: bytes[start..<i], as: UTF8.self).lowercased()
        var length = 0
        if let range = head.range(of: "content-length:") {
            length = Int(head[range.upperBound...].prefix { $0 != "\r" }.trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let end = i + 4 + length
        return end <= bytes.count ? end : nil
    }

    /// Requests per second over 50 keep-alive connections, one request in flight on each.
    func rate(port: Int, _ request: (Int, Int) -> [UInt8]) throws -> Double {
        let connections = 50
        let fds = (0..<connections).map { _ in Self.connect(port) }
        defer { fds.forEach { close($0) } }
        guard fds.allSatisfy({ $0 >= 0 }) else { throw BenchError(description: "cannot connect to routerd's HTTP port") }
        var buffers = [[UInt8]](repeating: [], count: connections)
        var sent = [Int](repeating: 0, count: connections)
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var completed = 0
        func fire(_ c: Int) {
            let bytes = request(c, sent[c])
            sent[c] += 1
            _ = bytes.withUnsafeBytes { send(fds[c], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        let start = MonotonicTime.now()
        let deadline = start + UInt64(seconds * 1e9)
        for c in 0..<connections { fire(c) }
        var running = connections
        while running > 0 {
            guard poll(&polls, nfds_t(polls.count), 1000) > 0 else { continue }
            for c in 0..<connections where polls[c].revents != 0 && polls[c].events != 0 {
                polls[c].revents = 0
                let n = chunk.withUnsafeMutableBytes { recv(fds[c], $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw BenchError(description: "routerd closed an HTTP connection") }
                buffers[c] += chunk[..<n]
                if let end = Self.responseEnd(buffers[c], from: 0) {
                    buffers[c].removeFirst(end)
                    completed += 1
                    if MonotonicTime.now() < deadline { fire(c) } else { running -= 1; polls[c].events = 0 }
                }
            }
        }
        return Double(completed) / MonotonicTime.seconds(since: start)
    }

    /// An add over the socket until a server-sent event for it arrives, 300 times.
    func sseDelivery(port: Int, socket: String) throws -> (Double, Double) {
        let fd = Self.connect(port)
        defer { close(fd) }
        let request = "GET /watch?prefix=sse HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var pending = ""
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        func readUntil(_ marker: String) throws {
            while !pending.contains(marker) {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw BenchError(description: "the watch ended") }
                pending += String(decoding: chunk[..<n], as: UTF8.self)
            }
            pending = String(pending[pending.range(of: marker)!.upperBound...])
        }
        try readUntil("event: sync")
        let adder = try SocketBenchmark.Client(path: socket)
        var latencies: [Double] = []
        for i in 0..<300 {
            let start = MonotonicTime.now()
            try adder.send(Array(#"{"op":"add","key":"sse\#(i)"}"#.utf8) + [0x0A])
            try readUntil("\"key\":\"sse\(i).example.com\"")
            latencies.append(MonotonicTime.seconds(since: start) * 1000)
            _ = try adder.readLine()
        }
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[latencies.count * 99 / 100])
    }

    /// The median wall times, in milliseconds, of one `curl` process fetching a route (nil
    /// without curl) and of one `routerctl --url … lookup` of it, run alternately (spawn to exit,
    /// output to /dev/null) so that both see the same machine.
    func oneShotMilliseconds(port: Int, directory: String) throws -> (curl: Double?, cli: Double) {
        let routerctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("routerctl").path
        guard FileManager.default.isExecutableFile(atPath: routerctl) else {
            throw BenchError(description: "no routerctl beside router-bench: run `swift build -c release` first")
        }
        _ = FileManager.default.createFile(atPath: directory + "/token", contents: Data("\(token)\n".utf8), attributes: [.posixPermissions: 0o600])
        let lookup = [routerctl, "--url", "http://127.0.0.1:\(port)", "--token-file", directory + "/token", "lookup", "k7.example.com"]
        let curlPath = "/usr/bin/curl"
        let curl = FileManager.default.isExecutableFile(atPath: curlPath)
            ? [curlPath, "-sf", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(port)/routes/k7.example.com"] : nil
        var ours: [Double] = []
        var theirs: [Double] = []
        for _ in 0..<50 {
            let (ms, status) = CLIBenchmark.time(lookup)
            guard status == 0 else { throw BenchError(description: "routerctl --url lookup exited \(status)") }
            ours.append(ms)
            if let curl {
                let (ms, status) = CLIBenchmark.time(curl)
                guard status == 0 else { throw BenchError(description: "curl exited \(status)") }
                theirs.append(ms)
            }
        }
        return (theirs.isEmpty ? nil : median(theirs), median(ours))
    }
}
