#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import NIOPosix
import RouterEtcd
import RouterProtocol
import RouterTestSupport
import Synchronization

/// `router-bench store --etcd`: two routerd (the built binaries) sharing a table in a
/// three-member etcd cluster of the benchmark's own, measured in the same run: how fast a change
/// on one daemon reaches a watcher on the other, a bulk load and pipelined adds beside a plain
/// client issuing etcd the transactions a claim needs (compare a key absent, put it and a log
/// key, from 50 concurrent connections), and how long writes stall when the leader is killed,
/// through routerd and through the plain client.
struct EtcdStoreBenchmark {
    var seconds = 3.0
    /// Adds timed from one daemon to a watcher on the other.
    var propagations = 1000

    func run() throws {
        let etcd = try EtcdClusterProcess(members: 3)
        defer { etcd.stop() }
        let store = ["--store", etcd.url, "--domain", "example.com", "--log-level", "warning"]
        let a = try RouterdProcess(store)
        let b = try RouterdProcess(store)
        defer {
            for daemon in [a, b] { _ = try? daemon.stop() }
        }
        print("router-bench store --etcd: two routerd on a three-member etcd cluster (\(etcd.url)); \(ProcessInfoLite.cpuCount) cores; \(fmt(seconds, 1)) s per rate")
        let socket = SocketBenchmark(seconds: seconds)
        let redisStore = StoreBenchmark(propagations: propagations)
        let (p50, p99) = try redisStore.propagation(from: a.socket, to: b.socket)
        let bulk = try socket.bulkAdd(path: a.socket, count: 100_000)
        let pipelinedAdd = try socket.rate(path: a.socket, connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"p{c}-{n}"}"#))
        let plain = try claims(etcd: etcd, connections: 50)
        let commits = try sameCommits(etcd: etcd)

        // Leader lost: a steady stream of adds, one at a time, through routerd; then the same
        // through a plain client, after the first member is back.
        let routerdStall = try stall(etcd: etcd) { i in
            let client = try SocketBenchmark.Client(path: a.socket)
            return {
                try client.send(Array(#"{"op":"add","key":"stall\#(i)-\#($0)"}"#.utf8) + [0x0A])
                let reply = try client.readLine()
                return String(decoding: reply, as: UTF8.self).contains(#""ok":true"#)
            }
        }
        let plainStall = try stall(etcd: etcd) { i in
            let client = try EtcdClient(configuration: try EtcdConfiguration(url: etcd.url), group: MultiThreadedEventLoopGroup.singleton)
            return { n in
                let key = "plain/\(i)/\(n)"
                return blocking {
                    (try? await client.txn(EtcdJSON.txn(compare: [EtcdJSON.versionIs(key, 0)], success: [.put(EtcdJSON.put(key, "x"))])))?.succeeded == true
                }
            }
        }

        print("")
        print("propagation, add on A to event on B:  p50 \(fmt(p50, 2)) ms, p99 \(fmt(p99, 2)) ms  (goal p99 ≤ 20)")
        print("100,000 adds over one connection:      \(fmt(bulk, 3)) s")
        print("pipelined add (16 × 50), new routes:   \(fmt(pipelinedAdd, 0)) ops/s; plain client's claim transactions (50 connections) \(fmt(plain, 0)) ops/s; ratio \(fmt(pipelinedAdd / plain, 3))  (goal ≥ 0.5)")
        print("pipelined add vs a plain client sending routerd's own commit (1,024 adds a transaction, one at a time): \(fmt(commits, 0)) adds/s; ratio \(fmt(pipelinedAdd / commits, 3))")
        print("writes stalled by a leader's loss:     routerd \(fmt(routerdStall * 1000, 0)) ms, plain client \(fmt(plainStall * 1000, 0)) ms  (goal ≤ 2 × the 1,000 ms election timeout)")
        print("""
            {"bench":"store_etcd","members":3,"propagation_p50_ms":\(fmt(p50, 3)),"propagation_p99_ms":\(fmt(p99, 3)),\
            "bulk_100k_add_s":\(fmt(bulk, 3)),"pipelined_add_ops":\(fmt(pipelinedAdd, 0)),"etcd_claim_txn_ops":\(fmt(plain, 0)),\
            "ratio_pipelined_add_claim":\(fmt(pipelinedAdd / plain, 3)),"plain_commit_adds":\(fmt(commits, 0)),"ratio_pipelined_add_plain_commit":\(fmt(pipelinedAdd / commits, 3)),"leader_loss_stall_ms":\(fmt(routerdStall * 1000, 0)),\
            "plain_client_leader_loss_stall_ms":\(fmt(plainStall * 1000, 0)),"election_timeout_ms":1000}
            """)
    }

    /// Claim transactions per second from a plain client over `connections` concurrent
    /// requests: compare the key absent, put it (a stored route's size) and a log key.
    func claims(etcd: EtcdClusterProcess, connections: Int) throws -> Double {
        let client = try EtcdClient(configuration: try EtcdConfiguration(url: etcd.url), group: MultiThreadedEventLoopGroup.singleton,
                                    connections: connections)
        let value = String(repeating: "r", count: 300)
        let seconds = self.seconds
        return blocking {
            let start = ContinuousClock.now
            let deadline = start + .milliseconds(Int64(seconds * 1000))
            let done = await withTaskGroup(of: Int.self) { group in
                for c in 0..<connections {
                    group.addTask {
                        var n = 0
                        while ContinuousClock.now < deadline {
                            let key = "bench/routes/\(c)-\(n)"
                            let request = EtcdJSON.txn(compare: [EtcdJSON.versionIs(key, 0)], success: [
                                .put(EtcdJSON.put(key, value)), .put(EtcdJSON.put("bench/log/\(c)-\(n)", value)),
                            ])
                            if (try? await client.txn(request))?.succeeded == true { n += 1 }
                        }
                        return n
                    }
                }
                return await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            await client.shutdown()
            return Double(done) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }

    /// Adds a second from a plain client sending the transactions routerd commits, one at a
    /// time as routerd does: compare the head, put a log entry of 1,024 stored routes and the
    /// new head.
    func sameCommits(etcd: EtcdClusterProcess) throws -> Double {
        let client = try EtcdClient(configuration: try EtcdConfiguration(url: etcd.url), group: MultiThreadedEventLoopGroup.singleton)
        let line = "add\t" + String(repeating: "r", count: 330) + "\n"
        let entry = "1.1 0\n" + String(repeating: line, count: 1024)
        let seconds = self.seconds
        return blocking {
            let start = ContinuousClock.now
            var n = 0
            while ContinuousClock.now - start < .milliseconds(Int64(seconds * 1000)) {
                let request = EtcdJSON.txn(compare: [EtcdJSON.valueIs("same/head", "\(n) t")], success: [
                    .put(EtcdJSON.put("same/log/\(n)", entry)), .put(EtcdJSON.put("same/head", "\(n + 1) t")),
                ])
                if n == 0 {
                    _ = try? await client.call("kv/put", EtcdJSON.put("same/head", "0 t"))
                }
                if (try? await client.txn(request))?.succeeded == true { n += 1 }
            }
            let elapsed = ContinuousClock.now - start
            await client.shutdown()
            return Double(n * 1024) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }

    /// Writes one at a time through `writer` (made for a round), killing the leader after two
    /// seconds; returns the longest time between two acknowledged writes around the kill, and
    /// brings the member back.
    func stall(etcd: EtcdClusterProcess, _ writer: (Int) throws -> (Int) throws -> Bool) throws -> Double {
        guard let leader = etcd.leader() else { throw BenchError(description: "the etcd cluster has no leader") }
        let write = try writer(leader)
        var last = MonotonicTime.now()
        var longest = 0.0
        let start = MonotonicTime.now()
        var killedAt: UInt64?
        var n = 0
        while MonotonicTime.seconds(since: start) < 10 {
            if killedAt == nil, MonotonicTime.seconds(since: start) > 2 {
                etcd.kill(leader)
                killedAt = MonotonicTime.now()
            }
            n += 1
            if try write(n) {
                let now = MonotonicTime.now()
                if killedAt != nil { longest = max(longest, Double(now - last) / 1e9) }
                last = now
            }
        }
        try etcd.restart(leader)
        try etcd.waitUntilHealthy()
        return longest
    }
}

/// Runs `body` to its end from synchronous code (the benchmark's driver is a plain thread).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        box.value.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return box.value.withLock { $0! }
}

/// A result handed from a task to the thread waiting for it.
final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
