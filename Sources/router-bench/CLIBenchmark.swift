import Foundation
import RouterEngine
import RouterServer
import RouterTestSupport

/// The wall time of one `routerctl lookup` process (spawn to exit), beside `redis-cli GET`
/// against a Redis of its own when redis-server and redis-cli are installed.
struct CLIBenchmark {
    var runs = 50

    /// Spawns `argv` with stdout and stderr to /dev/null and returns its wall time in ms and status.
    static func time(_ argv: [String]) -> (Double, Int32) {
        let start = MonotonicTime.now()
        guard let pid = spawn(argv, quiet: true) else { return (.nan, -1) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (MonotonicTime.seconds(since: start) * 1000, (status >> 8) & 0xFF)
    }

    func run() async throws {
        let daemon = try await InProcessDaemon.start(logger: benchLogger)
        let path = daemon.socketPath
        let routerctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("routerctl").path
        guard FileManager.default.isExecutableFile(atPath: routerctl) else {
            await daemon.stop()
            throw BenchError(description: "no routerctl beside router-bench: run `swift build -c release` first")
        }
        print("router-bench cli: \(runs) runs each of one process, median wall time (spawn to exit); \(ProcessInfoLite.cpuCount) cores")
        let (_, added) = Self.time([routerctl, "--socket", path, "add", "foo", "--tunnel", "t1", "-q"])
        guard added == 0 else { throw BenchError(description: "routerctl add failed with \(added)") }
        let lookup = [routerctl, "--socket", path, "lookup", "foo.example.com"]
        let redis = RedisCLI()
        defer { redis?.stop() }
        var ours: [Double] = []
        var theirs: [Double] = []
        // Alternate the two so that both see the same machine load.
        for _ in 0..<runs {
            let (ms, status) = Self.time(lookup)
            guard status == 0 else { throw BenchError(description: "routerctl lookup exited \(status)") }
            ours.append(ms)
            if let redis { theirs.append(Self.time(redis.get).0) }
        }
        // routerctl batch against the same adds sent raw over one pipelined connection.
        var batches: [Double] = []
        var raws: [Double] = []
        let lines = 100_000
        let dir = makeTemporaryDirectory("clib-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for round in 0..<3 {
            let file = dir + "/batch\(round).txt"
            var text = ""
            text.reserveCapacity(lines * 30)
            for i in 0..<lines { text += "add b\(round)-\(i) --tunnel t1\n" }
            try text.write(toFile: file, atomically: false, encoding: .utf8)
            let (ms, status) = Self.time([routerctl, "--socket", path, "batch", "--file", file, "-q"])
            guard status == 0 else { throw BenchError(description: "routerctl batch exited \(status)") }
            batches.append(ms)
            raws.append(try SocketBenchmark().bulkAdd(path: path, count: lines, prefix: "raw\(round)-") * 1000)
        }
        await daemon.stop()
        let batchMedian = median(batches), rawMedian = median(raws)
        print("routerctl batch, \(lines) add lines    median \(fmt(batchMedian)) ms   the same adds raw, one pipelined connection: " +
              "\(fmt(rawMedian)) ms   ratio \(fmt(batchMedian / rawMedian)) (target ≤ 1.3)")
        let ourMedian = median(ours)
        let line = "routerctl lookup (one process)     median \(fmt(ourMedian)) ms   p90 \(fmt(ours.sorted()[ours.count * 9 / 10])) ms"
        if theirs.isEmpty {
            print(line + "   (redis-cli not installed: no baseline)")
        } else {
            let redisMedian = median(theirs)
            print(line + "   redis-cli GET median \(fmt(redisMedian)) ms   ratio \(fmt(ourMedian / redisMedian)) (target ≤ 2)")
        }
        print(#"{"bench":"cli","routerctl_lookup_ms":\#(fmt(ourMedian, 3)),"redis_cli_get_ms":\#(theirs.isEmpty ? "null" : fmt(median(theirs), 3)),"#
              + #""batch_100k_ms":\#(fmt(batchMedian, 1)),"raw_100k_ms":\#(fmt(rawMedian, 1)),"batch_ratio":\#(fmt(batchMedian / rawMedian, 3))}"#)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// A throwaway redis-server and the redis-cli command line that GETs from it.
struct RedisCLI {
    let server: RedisServer
    let get: [String]

    init?() {
        let cli = "/usr/bin/redis-cli"
        guard FileManager.default.isExecutableFile(atPath: cli), let server = RedisServer() else { return nil }
        self.server = server
        _ = CLIBenchmark.time([cli, "-s", server.socket, "SET", "foo", "t1"])
        get = [cli, "-s", server.socket, "GET", "foo"]
    }

    func stop() { server.stop() }
}
