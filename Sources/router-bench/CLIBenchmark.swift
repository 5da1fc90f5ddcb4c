import Foundation
import Logging
import DomainRouter
import RouterServer

/// The wall time of one `routerctl lookup` process (spawn to exit), beside `redis-cli GET`
/// against a Redis of its own when redis-server and redis-cli are installed.
struct CLIBenchmark {
    var runs = 50

    /// Spawns `argv` with stdout and stderr to /dev/null and returns its wall time in ms and status.
    static func time(_ argv: [String]) -> (Double, Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let start = Clock.now()
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return (.nan, -1) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (Clock.seconds(since: start) * 1000, (status >> 8) & 0xFF)
    }

    func run() async throws {
        var template = Array("/tmp/rb-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/r.sock"
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let server = try RouterServer(configuration: ServerConfiguration(
            socketPath: path, table: RouteTableConfiguration(baseDomains: ["example.com"])), logger: logger)
        try await server.start()
        let routerctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("routerctl").path
        guard FileManager.default.isExecutableFile(atPath: routerctl) else {
            await server.shutdown()
            throw BenchError(description: "no routerctl beside router-bench: run `swift build -c release` first")
        }
        print("router-bench cli: \(runs) runs each of one process, median wall time (spawn to exit); \(ProcessInfoLite.cpuCount) cores")
        let (_, added) = Self.time([routerctl, "--socket", path, "add", "foo", "--tunnel", "t1", "-q"])
        guard added == 0 else { throw BenchError(description: "routerctl add failed with \(added)") }
        let lookup = [routerctl, "--socket", path, "lookup", "foo.example.com"]
        let redis = RedisCLI(directory: directory)
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
        await server.shutdown()
        let ourMedian = median(ours)
        let line = "routerctl lookup (one process)     median \(fmt(ourMedian)) ms   p90 \(fmt(ours.sorted()[ours.count * 9 / 10])) ms"
        if theirs.isEmpty {
            print(line + "   (redis-cli not installed: no baseline)")
        } else {
            let redisMedian = median(theirs)
            print(line + "   redis-cli GET median \(fmt(redisMedian)) ms   ratio \(fmt(ourMedian / redisMedian)) (target ≤ 2)")
        }
        print(#"{"bench":"cli","routerctl_lookup_ms":\#(fmt(ourMedian, 3)),"redis_cli_get_ms":\#(theirs.isEmpty ? "null" : fmt(median(theirs), 3))}"#)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// A throwaway redis-server on a Unix socket and the redis-cli command line that GETs from it.
struct RedisCLI {
    let pid: pid_t
    let get: [String]

    init?(directory: String) {
        let server = "/usr/bin/redis-server"
        let cli = "/usr/bin/redis-cli"
        guard FileManager.default.isExecutableFile(atPath: server), FileManager.default.isExecutableFile(atPath: cli) else { return nil }
        let socket = directory + "/redis.sock"
        let argv = [server, "--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no", "--dir", directory]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, server, &actions, nil, cArgs, environ) == 0 else { return nil }
        self.pid = pid
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
        _ = CLIBenchmark.time([cli, "-s", socket, "SET", "foo", "t1"])
        get = [cli, "-s", socket, "GET", "foo"]
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
