#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterTestSupport

/// `router-bench persist`: routerd with `--db` (release binaries, as processes) beside routerd
/// in memory, in the same run: 100,000 pipelined adds over one connection to each, alternated,
/// and SQLite alone writing the rows those adds leave in a state file (`SQLiteFloor`); then the
/// start-up time (spawn until the socket answers) on a state file of 1,000,000 routes beside an
/// empty one, and the file's bytes per route (the routes and their history).
struct PersistBenchmark {
    var rounds = 3
    var routes = 1_000_000

    func run() throws {
        let home = makeTemporaryDirectory("pb-")
        defer { try? FileManager.default.removeItem(atPath: home) }
        print("router-bench persist: \(rounds) rounds of 100,000 adds, --db against memory; start-up with \(routes) routes; \(ProcessInfoLite.cpuCount) cores")
        var memory: [Double] = []
        var persisted: [Double] = []
        var alone: [Double] = []
        for round in 0..<rounds {
            let plain = try RouterdProcess(["--log-level", "error"])
            memory.append(try SocketBenchmark().bulkAdd(path: plain.socket, count: 100_000))
            try plain.stop()
            let db = home + "/bulk\(round).db"
            let stored = try RouterdProcess(["--db", db, "--log-level", "error"])
            persisted.append(try SocketBenchmark().bulkAdd(path: stored.socket, count: 100_000))
            try stored.stop()
            let floor = home + "/floor\(round).db"
            try RouterdProcess(["--db", floor, "--log-level", "error"]).stop()
            alone.append(try SQLiteFloor(path: floor).run())
            print("  round \(round + 1): memory \(fmt(memory.last!, 3)) s, --db \(fmt(persisted.last!, 3)) s, SQLite alone \(fmt(alone.last!, 3)) s")
        }

        let big = home + "/big.db"
        let loader = try RouterdProcess(["--db", big, "--log-level", "error"])
        var loaded = 0
        while loaded < routes {
            let n = min(200_000, routes - loaded)
            _ = try SocketBenchmark().bulkAdd(path: loader.socket, count: n, prefix: "r\(loaded / 200_000)-")
            loaded += n
        }
        try loader.stop()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: big)[.size] as? Int) ?? 0
        var starts: [Double] = []
        var empties: [Double] = []
        for _ in 0..<rounds {
            var began = MonotonicTime.now()
            let daemon = try RouterdProcess(["--db", big, "--log-level", "error"])
            starts.append(MonotonicTime.seconds(since: began))
            try daemon.stop()
            began = MonotonicTime.now()
            let empty = try RouterdProcess(["--log-level", "error"])
            empties.append(MonotonicTime.seconds(since: began))
            try empty.stop()
        }
        let bulk = median(persisted)
        let base = median(memory)
        print("")
        print("100,000 adds, one connection: --db \(fmt(bulk, 3)) s, memory \(fmt(base, 3)) s  (goal --db ≤ 1 s)")
        print("  SQLite alone writing the same rows: \(fmt(median(alone), 3)) s")
        print("start-up with \(routes) routes: \(fmt(median(starts), 2)) s (an empty routerd: \(fmt(median(empties), 3)) s)  (goal ≤ 3 s)")
        print("state file: \(bytes) bytes, \(fmt(Double(bytes) / Double(routes), 0)) bytes a route with its history entry")
        print("""
            {"bench":"persist","bulk_100k_add_s":\(fmt(bulk, 3)),"bulk_100k_add_memory_s":\(fmt(base, 3)),\
            "bulk_100k_sqlite_alone_s":\(fmt(median(alone), 3)),\
            "startup_1m_s":\(fmt(median(starts), 3)),"startup_empty_s":\(fmt(median(empties), 3)),\
            "db_bytes_per_route":\(fmt(Double(bytes) / Double(routes), 1))}
            """)
    }
}
