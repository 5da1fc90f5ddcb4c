import Foundation
import RouterProtocol
import RouterTestSupport

/// A redis-server of the test's own and routerd processes sharing one table in it.
final class SharedStore {
    let redis: RedisServerProcess
    private(set) var daemons: [RouterdProcess] = []
    let arguments: [String]

    /// Starts Redis (with `redisArguments`) and `count` routerd on it.
    init(daemons count: Int, redisArguments: [String] = [], arguments: [String] = []) throws {
        redis = try RedisServerProcess(redisArguments)
        self.arguments = ["--store", "redis+unix://\(redis.socket)", "--domain", "example.com"] + arguments
        for _ in 0..<count { daemons.append(try RouterdProcess(self.arguments)) }
    }

    deinit { stop() }

    func stop() {
        for daemon in daemons { _ = try? daemon.stop() }
        daemons = []
        redis.stop()
    }

    /// Starts one more routerd on the store; returns its index.
    @discardableResult
    func join() throws -> Int {
        daemons.append(try RouterdProcess(arguments))
        return daemons.count - 1
    }

    func connect(_ index: Int) throws -> LineClient {
        try LineClient(path: daemons[index].socket)
    }

    /// Runs redis-cli against the test's Redis; returns its output.
    @discardableResult
    func redisCLI(_ words: String...) -> String {
        let cli = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }!
        let child = try? ChildProcess(cli, ["-s", redis.socket] + words, directory: redis.directory)
        return child?.wait().stdout ?? ""
    }
}
