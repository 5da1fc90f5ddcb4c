#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport

/// `router-bench store`: two routerd (the built binaries, as processes) sharing a table in a
/// redis-server of the benchmark's own on a Unix socket, and one routerd in memory, measured
/// in the same run: how fast a change on one daemon reaches a watcher on the other, a bulk
/// load and pipelined adds through the store beside redis-benchmark running the smallest
/// honest claim script, lookups with the store against lookups in memory, and Redis's memory
/// per route.
struct StoreBenchmark {
    var seconds = 3.0
    /// Routes loaded for the memory-per-route figure.
    var routes = 1_000_000
    /// Adds timed from one daemon to a watcher on the other.
    var propagations = 1000
    /// Rounds of pipelined adds alternating with the claim script.
    var rounds = 3

    /// The smallest script that claims a name the way a shared table must: refuse a taken
    /// key, write the route, bump one revision, append the change to a stream.
    static let claimScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'tunnel', ARGV[1], 'owner', ARGV[2])
        local r = redis.call('INCR', KEYS[2])
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', '65536', '*', 'k', KEYS[1])
        return r
        """

    func run() throws {
        guard let redis = try RedisBaseline(seconds: seconds) else {
            throw BenchError(description: "router-bench store needs redis-server and redis-benchmark (apt-get install redis-server)")
        }
        defer { redis.stop() }
        let store = ["--store", "redis+unix://\(redis.server.socket)", "--domain", "example.com", "--log-level", "warning"]
        let a = try RouterdProcess(store)
        let b = try RouterdProcess(store)
        let memory = try RouterdProcess(["--domain", "example.com", "--log-level", "warning"])
        defer {
            for daemon in [a, b, memory] { _ = try? daemon.stop() }
        }
        print("router-bench store: two routerd on redis-server \(redis.server.socket), one in memory; \(ProcessInfoLite.cpuCount) cores; \(fmt(seconds, 1)) s per rate")
        let socket = SocketBenchmark(seconds: seconds)

        let (p50, p99) = try propagation(from: a.socket, to: b.socket)
        let bulk = try socket.bulkAdd(path: a.socket, count: 100_000)
        // Pipelined adds on A and the claim script in redis-benchmark, alternated `rounds`
        // times (new keys each round); the ratio of medians. Beside each rate, the CPU time a
        // call of each process it goes through: A drafting and committing, Redis running the
        // script, B following, the benchmark's own load generator (this process); Redis and
        // redis-benchmark for a claim call.
        let pids = [a.process.pid, redis.server.pid, b.process.pid, getpid()]
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        var addRates: [Double] = [], claimRates: [Double] = []
        var addCPUs: [[Double]] = [], claimCPUs: [[Double]] = []
        var memoryRates: [Double] = [], memoryCPUs: [Double] = []
        var aloneRates: [Double] = []
        for round in 0..<rounds {
            let cpuBefore = pids.map(GatewayBenchmark.cpuTicks)
            let started = ContinuousClock.now
            let rate = try socket.rate(path: a.socket, connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"p\#(round)-{c}-{n}"}"#))
            let adds = rate * (ContinuousClock.now - started).seconds
            addRates.append(rate)
            addCPUs.append(zip(pids, cpuBefore).map { Double(GatewayBenchmark.cpuTicks($0) - $1) / tick / adds * 1e6 })

            // The same adds with B stopped (SIGSTOP): a daemon's store path with no other
            // daemon following on these two cores, as where the daemons sharing a table run on
            // hosts of their own. Not the goal's figure (B follows in that one); it shows how
            // much of the gap B's following is. B then catches up (it loads the table anew once
            // the log has moved past it) before anything else is measured.
            kill(b.process.pid, SIGSTOP)
            aloneRates.append(try socket.rate(path: a.socket, connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"s\#(round)-{c}-{n}"}"#)))
            kill(b.process.pid, SIGCONT)
            try waitForRevision(of: b, toReach: Self.revision(of: a.socket))

            let redisBefore = GatewayBenchmark.cpuTicks(redis.server.pid)
            let clientBefore = Self.childrenCPU()
            let claimStarted = ContinuousClock.now
            let claim = try redis.run(["-c", "50", "-P", "16", "-n", String(Int(300_000 * seconds)), "-r", "1000000000",
                                       "EVAL", Self.claimScript, "3", "{b}:route:__rand_int__", "{b}:rev", "{b}:log", "t1", "alice"])
            let calls = claim * (ContinuousClock.now - claimStarted).seconds
            claimRates.append(claim)
            claimCPUs.append([Double(GatewayBenchmark.cpuTicks(redis.server.pid) - redisBefore) / tick / calls * 1e6,
                              (Self.childrenCPU() - clientBefore) / calls * 1e6])

            // The same adds on the routerd in memory: what the front end and the table allow
            // with no store at all, the ceiling of the adds through Redis.
            let memoryBefore = GatewayBenchmark.cpuTicks(memory.process.pid)
            let memoryStarted = ContinuousClock.now
            let inMemory = try socket.rate(path: memory.socket, connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"q\#(round)-{c}-{n}"}"#))
            memoryRates.append(inMemory)
            memoryCPUs.append(Double(GatewayBenchmark.cpuTicks(memory.process.pid) - memoryBefore) / tick
                              / (inMemory * (ContinuousClock.now - memoryStarted).seconds) * 1e6)
            print("round \(round + 1): pipelined adds \(fmt(rate, 0))/s (B stopped: \(fmt(aloneRates.last!, 0))/s), claim script \(fmt(claim, 0))/s, adds in memory \(fmt(inMemory, 0))/s")
        }
        let pipelinedAdd = median(addRates), claim = median(claimRates)
        let addCPU = (0..<pids.count).map { i in median(addCPUs.map { $0[i] }) }
        let claimCPU = median(claimCPUs.map { $0[0] }), claimClientCPU = median(claimCPUs.map { $0[1] })
        let memoryAdd = median(memoryRates), memoryCPU = median(memoryCPUs), alone = median(aloneRates)

        // Lookups: the same table size and request on the daemon with the store and the one
        // in memory, alternated three times; the ratio of medians.
        _ = try socket.bulkAdd(path: memory.socket, count: 100_000)
        let lookup = RequestTemplate(#"{"id":1,"op":"lookup","host":"bulk7.example.com"}"#)
        var storeLookups: [Double] = []
        var memoryLookups: [Double] = []
        for _ in 0..<3 {
            storeLookups.append(try socket.rate(path: b.socket, connections: 50, depth: 16, lookup))
            memoryLookups.append(try socket.rate(path: memory.socket, connections: 50, depth: 16, lookup))
        }
        let lookupRatio = median(storeLookups) / median(memoryLookups)

        // Redis's memory per route: used_memory before and after loading `routes` more.
        let before = usedMemory(redis.server.socket)
        let loadTime = try socket.bulkAdd(path: a.socket, count: routes, prefix: "m")
        let after = usedMemory(redis.server.socket)
        let perRoute = Double(after - before) / Double(routes)

        print("")
        print("propagation, add on A to event on B:  p50 \(fmt(p50, 2)) ms, p99 \(fmt(p99, 2)) ms  (goal p50 ≤ 2, p99 ≤ 20)")
        print("100,000 adds over one connection:      \(fmt(bulk, 3)) s  (goal ≤ 2 s)")
        print("pipelined add (16 × 50), new routes:   \(fmt(pipelinedAdd, 0)) ops/s; redis-benchmark claim script \(fmt(claim, 0)) ops/s (medians of \(rounds) rounds); ratio \(fmt(pipelinedAdd / claim, 3))  (goal ≥ 0.8)")
        print("  CPU a pipelined add:                 A \(fmt(addCPU[0], 1)) µs, Redis \(fmt(addCPU[1], 1)) µs, B \(fmt(addCPU[2], 1)) µs, load generator \(fmt(addCPU[3], 1)) µs; a claim call: Redis \(fmt(claimCPU, 1)) µs, redis-benchmark \(fmt(claimClientCPU, 1)) µs")
        print("  the same adds, routerd in memory:    \(fmt(memoryAdd, 0)) ops/s, ratio to the claim script \(fmt(memoryAdd / claim, 3)); CPU an add \(fmt(memoryCPU, 1)) µs  (no store: the ceiling of the adds above)")
        print("  the same adds with B stopped:        \(fmt(alone, 0)) ops/s, ratio to the claim script \(fmt(alone / claim, 3))  (no follower on these cores)")
        print("pipelined lookup on B vs in memory:    \(fmt(median(storeLookups), 0)) vs \(fmt(median(memoryLookups), 0)) ops/s; ratio \(fmt(lookupRatio, 3))  (goal ≥ 0.9)")
        print("Redis memory per route at \(routes) more: \(fmt(perRoute, 0)) bytes (\(fmt(Double(after) / 1_048_576, 0)) MB used; loaded in \(fmt(loadTime, 1)) s)")
        print("""
            {"bench":"store","propagation_p50_ms":\(fmt(p50, 3)),"propagation_p99_ms":\(fmt(p99, 3)),\
            "bulk_100k_add_s":\(fmt(bulk, 3)),"pipelined_add_ops":\(fmt(pipelinedAdd, 0)),"redis_claim_ops":\(fmt(claim, 0)),\
            "ratio_pipelined_add_claim":\(fmt(pipelinedAdd / claim, 3)),"rounds":\(rounds),\
            "add_cpu_us_a":\(fmt(addCPU[0], 2)),"add_cpu_us_redis":\(fmt(addCPU[1], 2)),"add_cpu_us_b":\(fmt(addCPU[2], 2)),"add_cpu_us_client":\(fmt(addCPU[3], 2)),\
            "claim_cpu_us_redis":\(fmt(claimCPU, 2)),"claim_cpu_us_client":\(fmt(claimClientCPU, 2)),\
            "memory_add_ops":\(fmt(memoryAdd, 0)),"ratio_memory_add_claim":\(fmt(memoryAdd / claim, 3)),"memory_add_cpu_us":\(fmt(memoryCPU, 2)),\
            "alone_add_ops":\(fmt(alone, 0)),"ratio_alone_add_claim":\(fmt(alone / claim, 3)),"lookup_store_ops":\(fmt(median(storeLookups), 0)),\
            "lookup_memory_ops":\(fmt(median(memoryLookups), 0)),"lookup_ratio_store_vs_memory":\(fmt(lookupRatio, 3)),\
            "redis_bytes_per_route":\(fmt(perRoute, 0)),"redis_used_memory_bytes":\(after),"routes_loaded":\(routes),"load_s":\(fmt(loadTime, 2))}
            """)
    }

    /// The CPU time (user and system, in seconds) of this process's children waited for so far:
    /// redis-benchmark's, once it has run.
    static func childrenCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The table's revision a daemon answers a `ping` with.
    static func revision(of socket: String) throws -> UInt64 {
        let client = try SocketBenchmark.Client(path: socket)
        try client.send(Array(#"{"id":1,"op":"ping"}"#.utf8) + [0x0A])
        let line = String(decoding: try client.readLine(), as: UTF8.self)
        guard case .number(let text)? = (try? JSONParser.parse(line))?["revision"], let revision = UInt64(text) else {
            throw BenchError(description: "routerd on \(socket) answered a ping without a revision: \(line)")
        }
        return revision
    }

    /// Waits (up to two minutes) until `daemon`'s table reaches `revision`, asking it
    /// with a `ping` every 50 ms: a follower catching up, or loading the table anew.
    func waitForRevision(of daemon: RouterdProcess, toReach revision: UInt64) throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while (try? Self.revision(of: daemon.socket)) ?? 0 < revision {
            guard ContinuousClock.now < deadline else {
                throw BenchError(description: "routerd B did not reach revision \(revision) within two minutes")
            }
            usleep(50_000)
        }
    }

    /// Adds on `from` one at a time, each timed until a watcher on `to` has its event.
    func propagation(from: String, to: String) throws -> (Double, Double) {
        let watcher = try SocketBenchmark.Client(path: to)
        try watcher.send(Array(#"{"id":"w","op":"watch","prefix":"prop"}"#.utf8) + [0x0A])
        _ = try watcher.readLine() // sync
        let adder = try SocketBenchmark.Client(path: from)
        var latencies: [Double] = []
        for i in 0..<propagations {
            let start = MonotonicTime.now()
            try adder.send(Array(#"{"op":"add","key":"prop\#(i)"}"#.utf8) + [0x0A])
            _ = try watcher.readLine()
            latencies.append(MonotonicTime.seconds(since: start) * 1000)
            _ = try adder.readLine()
        }
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }

    /// `used_memory` from `INFO memory`.
    func usedMemory(_ socket: String) -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        p.arguments = ["-s", socket, "INFO", "memory"]
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) where line.hasPrefix("used_memory:") {
            return Int(line.dropFirst("used_memory:".count)) ?? 0
        }
        return 0
    }
}
