import Dispatch
#if os(Linux)
import CEpoll
#endif
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import DomainRouter
import Foundation
import Logging
import RouterEngine
import RouterProtocol
import RouterServer
import RouterTestSupport

/// `router-bench socket`: starts a routerd (in this process, on a temporary socket) and
/// measures request/response rates, pipelining, a bulk load and expiry latency; when
/// `redis-server` and `redis-benchmark` are installed, runs the same workloads against a Redis
/// of its own on a Unix socket and prints each figure beside Redis's.
struct SocketBenchmark {
    var seconds = 3.0
    /// Event loop threads for the routerd under test (nil: one per core, as routerd defaults).
    var threads: Int?

    /// A blocking line client, enough for load generation.
    final class Client {
        let fd: Int32
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var start = 0
        var end = 0

        init(path: String) throws {
            fd = UnixSocketAddress.connect(path)
            guard fd >= 0 else { throw ClientError.connect(path) }
            _ = try readLine() // greeting
        }

        deinit { close(fd) }

        enum ClientError: Error { case connect(String), closed }

        func send(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw ClientError.closed }
                offset += n
            }
        }

        /// Reads one line; returns its bytes (valid until the next read). Finds newlines with
        /// memchr and moves the unread tail down only when the buffer runs out, so that the
        /// load generator spends little of the machine's CPU on its own side.
        func readLine() throws -> ArraySlice<UInt8> {
            while true {
                let newline = buffer.withUnsafeBytes { raw -> Int? in
                    guard start < end, let hit = memchr(raw.baseAddress! + start, 0x0A, end - start) else { return nil }
                    return UnsafeRawPointer(hit) - raw.baseAddress!
                }
                if let newline {
                    let line = buffer[start..<newline]
                    start = newline + 1
                    return line
                }
                if start > 0 {
                    let (from, count) = (start, end - start)
                    buffer.withUnsafeMutableBytes { raw in
                        if count > 0 { memmove(raw.baseAddress!, raw.baseAddress! + from, count) }
                    }
                    end = count
                    start = 0
                }
                if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
                guard n > 0 else { throw ClientError.closed }
                end += n
            }
        }
    }

    func run() async throws {
        let threads = self.threads
        let daemon = try await InProcessDaemon.start(logger: benchLogger) {
            $0.table.tcpPorts = 1...65535
            $0.threads = threads
            // A user (nobody) connects too, for the namespace figure.
            $0.socketMode = 0o666
        }
        let path = daemon.socketPath
        print("router-bench socket: routerd in this process on \(path); \(ProcessInfoLite.cpuCount) cores, \(threads.map(String.init) ?? "one per core") event loop threads; \(fmt(seconds, 1)) s per figure")

        // Something to look up.
        let loader = try Client(path: path)
        var batch: [UInt8] = []
        for i in 0..<1000 { batch += Array(#"{"op":"add","key":"k\#(i)","tunnel":"t\#(i)"}"#.utf8) + [0x0A] }
        try loader.send(batch)
        for _ in 0..<1000 { _ = try loader.readLine() }

        // Redis runs beside routerd; each routerd figure is followed at once by its Redis
        // counterpart, so that both see the same load on this shared machine.
        let redis = try RedisBaseline(seconds: seconds)
        defer { redis?.stop() }
        let bulk = try bulkAdd(path: path, count: 100_000)
        let lookup = RequestTemplate(#"{"id":1,"op":"lookup","host":"k7.example.com"}"#)
        let unpipelined1 = try rate(path: path, connections: 1, depth: 1, lookup)
        let redisGet1 = try redis?.run(["-c", "1", "-n", String(Int(30_000 * seconds)), "-t", "get"])
        let unpipelined50 = try rate(path: path, connections: 50, depth: 1, lookup)
        let redisGet50 = try redis?.run(["-c", "50", "-n", String(Int(200_000 * seconds)), "-t", "get"])
        let pipelinedLookup = try rate(path: path, connections: 50, depth: 16, lookup)
        let redisGetPipelined = try redis?.run(["-c", "50", "-P", "16", "-n", String(Int(2_000_000 * seconds)), "-t", "get"])
        let pipelinedAdd = try rate(path: path, connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"p{c}-{n}"}"#))
        // Every routerd add above creates a new route, so the equivalent Redis workload inserts
        // new keys: -r draws each key from 10^9, making almost every SET an insert. Plain
        // redis-benchmark SET overwrites one key, a cheaper job; that figure is shown beside it.
        let redisSetPipelined = try redis?.run(["-c", "50", "-P", "16", "-n", String(Int(1_000_000 * seconds)), "-t", "set", "-r", "1000000000"])
        let redisSetSameKey = try redis?.run(["-c", "50", "-P", "16", "-n", String(Int(2_000_000 * seconds)), "-t", "set"])
        let (expiryP50, expiryP99) = try expiryLatency(path: path, count: 200)
        let namespaced = try namespaceAdds(daemon: daemon)
        await daemon.stop()

        func ratio(_ ours: Double, _ theirs: Double?) -> String { theirs.map { fmt(ours / $0, 3) } ?? "null" }
        func show(_ name: String, _ ours: Double, _ theirs: Double?, target: String) {
            let redisText = theirs.map { fmt($0, 0) } ?? "—"
            print("\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(pad(fmt(ours, 0), 10)) ops/s   Redis \(pad(redisText, 10))   ratio \(ratio(ours, theirs))  (target \(target))")
        }
        print("")
        show("unpipelined lookup, 1 connection", unpipelined1, redisGet1, target: "≥ 0.7")
        show("unpipelined lookup, 50 connections", unpipelined50, redisGet50, target: "≥ 0.7")
        show("pipelined (16 × 50 conns) add", pipelinedAdd, redisSetPipelined, target: "≥ 0.25")
        if let same = redisSetSameKey {
            print("  (against SET overwriting one key, \(fmt(same, 0)) ops/s: ratio \(ratio(pipelinedAdd, same)))")
        }
        show("pipelined (16 × 50 conns) lookup", pipelinedLookup, redisGetPipelined, target: "≥ 0.25")
        print("100,000 adds over one connection: \(fmt(bulk, 3)) s (target ≤ 0.5 s)")
        print("expiry latency, deadline to event: p50 \(fmt(expiryP50, 1)) ms, p99 \(fmt(expiryP99, 1)) ms")
        if let (plain, quota) = namespaced {
            print("user adds (16 × 50 conns, as nobody): no namespaces \(fmt(median(plain), 0)) ops/s, in a namespace with quotas \(fmt(median(quota), 0)) ops/s: ratio \(fmt(median(quota) / median(plain), 3))  (goal ≥ 0.91: at most 10% more an add)")
        } else {
            print("(not root, or no setpriv: no figure for adds by a user in a namespace)")
        }
        if redis == nil { print("(redis-server or redis-benchmark not installed: no Redis figures)") }
        func number(_ v: Double?, _ digits: Int = 0) -> String { v.map { fmt($0, digits) } ?? "null" }
        print("""
            {"bench":"socket","unpipelined_1_ops":\(fmt(unpipelined1, 0)),"unpipelined_50_ops":\(fmt(unpipelined50, 0)),\
            "pipelined_add_ops":\(fmt(pipelinedAdd, 0)),"pipelined_lookup_ops":\(fmt(pipelinedLookup, 0)),\
            "bulk_100k_add_s":\(fmt(bulk, 3)),"expiry_latency_ms_p50":\(fmt(expiryP50, 1)),"expiry_latency_ms_p99":\(fmt(expiryP99, 1)),\
            "redis_unpipelined_1_ops":\(number(redisGet1)),"redis_unpipelined_50_ops":\(number(redisGet50)),\
            "redis_pipelined_set_ops":\(number(redisSetPipelined)),"redis_pipelined_get_ops":\(number(redisGetPipelined)),\
            "redis_pipelined_set_same_key_ops":\(number(redisSetSameKey)),"ratio_pipelined_add_same_key":\(ratio(pipelinedAdd, redisSetSameKey)),\
            "ratio_unpipelined_1":\(ratio(unpipelined1, redisGet1)),"ratio_unpipelined_50":\(ratio(unpipelined50, redisGet50)),\
            "ratio_pipelined_add":\(ratio(pipelinedAdd, redisSetPipelined)),"ratio_pipelined_lookup":\(ratio(pipelinedLookup, redisGetPipelined)),\
            "user_adds_ops":\(number(namespaced.map { median($0.0) })),"namespace_adds_ops":\(number(namespaced.map { median($0.1) })),\
            "namespace_add_ratio":\(namespaced.map { fmt(median($0.1) / median($0.0), 3) } ?? "null")}
            """)
    }

    /// Pipelined adds by a user (not an admin, whom namespaces do not check) under
    /// team.example.com: with no namespaces, and with it a team namespace the user belongs to,
    /// with route, TCP-port, session and TTL quotas for the namespace and each member. Three
    /// rounds alternating. The load runs in a child router-bench as `nobody` (setpriv), since
    /// the socket names its peer by uid; nil when this is not root or setpriv is missing.
    func namespaceAdds(daemon: InProcessDaemon) throws -> (plain: [Double], quota: [Double])? {
        let setpriv = "/usr/bin/setpriv"
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else { return nil }
        let folder = (daemon.socketPath as NSString).deletingLastPathComponent
        chmod(folder, 0o755)
        let quota = Namespace.Quota(routes: 100_000_000, tcpPorts: 1000, sessionRoutes: 100_000_000, longestTTL: .seconds(86_400))
        let policy = try NamespacePolicy([
            Namespace(name: "team", kind: .team, domains: ["team.example.com"], users: ["nobody"], groups: ["staff"],
                      quota: quota, memberQuota: quota),
        ])
        var plain: [Double] = []
        var namespaced: [Double] = []
        for round in 0..<3 {
            for withNamespaces in [false, true] {
                daemon.server.table.setNamespaces(withNamespaces ? policy : nil)
                let prefix = "r\(round)\(withNamespaces ? "q" : "p")"
                let child = try ChildProcess(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", CommandLine.arguments[0],
                                                      "socket-user-adds", daemon.socketPath, String(seconds), prefix],
                                             directory: "/").wait(timeout: seconds + 60)
                guard child.status == 0, let rate = Double(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw LaunchError("the adds as nobody failed: \(child.stdout)\(child.stderr)")
                }
                if withNamespaces { namespaced.append(rate) } else { plain.append(rate) }
            }
        }
        daemon.server.table.setNamespaces(nil)
        return (plain, namespaced)
    }

    /// The child's side of `namespaceAdds`: pipelined adds under team.example.com, as whoever
    /// runs it; prints the rate.
    func userAdds(path: String, prefix: String) throws {
        let rate = try rate(path: path, connections: 50, depth: 16,
                            RequestTemplate(#"{"op":"add","key":"\#(prefix)-{c}-{n}.team.example.com","tunnel":"\#(prefix)-{c}","ttl":3600}"#))
        print(fmt(rate, 0))
    }

    /// Requests per second over `connections` connections with `depth` requests in flight on each,
    /// driven the way redis-benchmark drives Redis: one thread waiting on every connection
    /// (epoll on Linux, as redis-benchmark's event loop does, rather than `poll`, which walks
    /// every socket on every call), sending the next `depth` requests on a connection once all
    /// its replies are in. Each request is `request` filled in for its connection and number.
    func rate(path: String, connections: Int, depth: Int, _ request: RequestTemplate) throws -> Double {
        let clients = try (0..<connections).map { _ in try Client(path: path) }
        var outstanding = [Int](repeating: 0, count: connections)
        var sent = [Int](repeating: 0, count: connections)
        var completed = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        func fire(_ c: Int) throws {
            var batch = JSONWriter(capacity: 64 * depth)
            for k in 0..<depth { request.append(to: &batch, connection: c, number: sent[c] + k) }
            try clients[c].send(batch.bytes)
            sent[c] += depth
            outstanding[c] = depth
        }
        /// Reads what connection `c` has; false once it has all its replies and no more are sent.
        func receive(_ c: Int, deadline: UInt64) throws -> Bool {
            let lines = chunk.withUnsafeMutableBytes { raw -> Int in
                let n = recv(clients[c].fd, raw.baseAddress, raw.count, 0)
                guard n > 0 else { return -1 }
                // Count the reply lines with memchr (replies are long; the client must stay cheap).
                var count = 0
                var p = raw.baseAddress!
                var left = n
                while left > 0, let hit = memchr(p, 0x0A, left) {
                    count += 1
                    let skip = p.distance(to: hit) + 1
                    p += skip
                    left -= skip
                }
                return count
            }
            guard lines >= 0 else { throw Client.ClientError.closed }
            outstanding[c] -= lines
            guard outstanding[c] == 0 else { return true }
            completed += depth
            guard MonotonicTime.now() < deadline else { return false }
            try fire(c)
            return true
        }
        let start = MonotonicTime.now()
        let deadline = start + UInt64(seconds * 1e9)
        for c in 0..<connections { try fire(c) }
        var running = connections
        #if os(Linux)
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw BenchError(description: "epoll_create1 failed: errno \(errno)") }
        defer { close(epoll) }
        for c in 0..<connections {
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: UInt64(c)))
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, clients[c].fd, &event) == 0 else {
                throw BenchError(description: "epoll_ctl failed: errno \(errno)")
            }
        }
        var events = [epoll_event](repeating: epoll_event(), count: connections)
        while running > 0 {
            let ready = epoll_wait(epoll, &events, Int32(connections), 1000)
            guard ready > 0 else { continue }
            for e in 0..<Int(ready) {
                let c = Int(events[e].data.u64)
                guard outstanding[c] > 0 else { continue }
                if try !receive(c, deadline: deadline) {
                    running -= 1
                    _ = epoll_ctl(epoll, EPOLL_CTL_DEL, clients[c].fd, nil)
                }
            }
        }
        #else
        var fds = clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while running > 0 {
            guard poll(&fds, nfds_t(fds.count), 1000) > 0 else { continue }
            for c in 0..<connections where fds[c].revents != 0 && outstanding[c] > 0 {
                fds[c].revents = 0
                if try !receive(c, deadline: deadline) { running -= 1; fds[c].events = 0 }
            }
        }
        #endif
        return Double(completed) / MonotonicTime.seconds(since: start)
    }

    /// Seconds to add `count` routes over one connection, fully pipelined.
    func bulkAdd(path: String, count: Int, prefix: String = "bulk") throws -> Double {
        let client = try Client(path: path)
        var batch: [UInt8] = []
        batch.reserveCapacity(count * 48)
        for i in 0..<count { batch += Array(#"{"op":"add","key":"\#(prefix)\#(i)"}"#.utf8) + [0x0A] }
        let start = MonotonicTime.now()
        let sender = UncheckedBox(client)
        let sendDone = DispatchSemaphore(value: 0)
        let payload = batch
        Thread.detachNewThread {
            try? sender.value.send(payload)
            sendDone.signal()
        }
        for _ in 0..<count { _ = try client.readLine() }
        sendDone.wait()
        return MonotonicTime.seconds(since: start)
    }

    /// Deadline-to-event latency of `count` routes with TTLs, watched on another connection.
    func expiryLatency(path: String, count: Int) throws -> (Double, Double) {
        let watcher = try Client(path: path)
        try watcher.send(Array(#"{"id":"w","op":"watch","prefix":"exp"}"#.utf8) + [0x0A])
        _ = try watcher.readLine() // sync
        let adder = try Client(path: path)
        var deadlines: [String: Double] = [:]
        let wall = { () -> Double in
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
        }
        for i in 0..<count {
            let ttl = 1.0 + Double(i % 10) * 0.1
            try adder.send(Array(#"{"op":"add","key":"exp\#(i)","ttl":\#(ttl)}"#.utf8) + [0x0A])
            let reply = try JSONParser.parse(String(decoding: try adder.readLine(), as: UTF8.self))
            if let expires = reply["result"]?["route"]?["expires_at"]?.stringValue,
               let key = reply["result"]?["route"]?["key"]?.stringValue {
                deadlines[key] = Double(WireTime.milliseconds(rfc3339: expires) ?? 0)
            }
        }
        var latencies: [Double] = []
        while latencies.count < count {
            let line = try watcher.readLine()
            let received = wall()
            let event = try JSONParser.parse(String(decoding: line, as: UTF8.self))["event"]
            guard event?["type"] == .string("expire"), let key = event?["key"]?.stringValue, let deadline = deadlines[key] else { continue }
            latencies.append(received - deadline)
        }
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }
}

/// A value handed to a benchmark thread that the benchmark itself keeps exclusive; not for
/// general use.
struct UncheckedBox<T>: @unchecked Sendable {
    // @unchecked: bulkAdd's sender thread only sends on the client while the main thread only
    // reads from it, and the main thread waits for the sender before it returns.
    let value: T
    init(_ value: T) { self.value = value }
}

/// A throwaway redis-server on a Unix socket in a temporary folder (the baseline for the
/// socket and cli benchmarks); `stop()` kills it and removes the folder.
final class RedisServer {
    let directory: String
    let socket: String
    let pid: pid_t

    init?() {
        let server = "/usr/bin/redis-server"
        guard FileManager.default.isExecutableFile(atPath: server) else { return nil }
        directory = makeTemporaryDirectory("rr-")
        socket = directory + "/redis.sock"
        guard let pid = spawn([server, "--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no",
                               "--dir", directory]) else { return nil }
        self.pid = pid
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
    }

    func stop() {
        kill(pid, SIGKILL) // a throwaway instance
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Redis measured with redis-benchmark, kept running beside routerd so that each figure can be
/// taken right after routerd's.
final class RedisBaseline {
    let server: RedisServer
    let benchmark = "/usr/bin/redis-benchmark"

    init?(seconds: Double) throws {
        guard FileManager.default.isExecutableFile(atPath: benchmark), let server = RedisServer() else { return nil }
        self.server = server
    }

    /// Runs redis-benchmark with `arguments`; returns its requests per second.
    func run(_ arguments: [String]) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: benchmark)
        p.arguments = ["-s", server.socket, "--csv", "-q"] + arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        var status: Int32 = 0
        waitpid(p.processIdentifier, &status, 0)
        // "test","rps",...
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rps = Double(fields[1]) { return rps }
        }
        return 0
    }

    func stop() { server.stop() }
}
