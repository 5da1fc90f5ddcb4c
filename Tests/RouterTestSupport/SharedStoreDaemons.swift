import Foundation
import RouterProtocol

/// The shared stores routerd runs on, for tests that must hold on each.
public enum SharedStoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case redis, etcd

    public var description: String { rawValue }

    /// The kinds whose servers are installed here (scripts/install-packages.sh test installs
    /// both).
    public static var installed: [SharedStoreKind] {
        allCases.filter { kind in
            switch kind {
            case .redis: RedisServerProcess.executable != nil
            case .etcd: EtcdClusterProcess.executable != nil && EtcdClusterProcess.etcdctlPath != nil
            }
        }
    }
}

/// A store server of the test's own (a redis-server, or an etcd cluster) and routerd processes
/// sharing one table in it; everything started is stopped with it.
public final class SharedStoreDaemons {
    public let kind: SharedStoreKind
    /// The Redis, for a Redis store.
    public let redis: RedisServerProcess!
    /// The etcd cluster, for an etcd store (keys under `t/`).
    public let etcd: EtcdClusterProcess!
    public private(set) var daemons: [RouterdProcess] = []
    let arguments: [String]

    /// Starts the store (Redis with `redisArguments`, or etcd of `members`) and `count` routerd
    /// on it with `arguments`.
    public init(_ kind: SharedStoreKind, daemons count: Int, redisArguments: [String] = [], members: Int = 1,
                arguments: [String] = []) throws {
        self.kind = kind
        switch kind {
        case .redis:
            redis = try RedisServerProcess(redisArguments)
            etcd = nil
            self.arguments = ["--store", "redis+unix://\(redis.socket)", "--domain", "example.com"] + arguments
        case .etcd:
            etcd = try EtcdClusterProcess(members: members)
            redis = nil
            self.arguments = ["--store", etcd.url, "--store-prefix", "t", "--domain", "example.com"] + arguments
        }
        for _ in 0..<count { daemons.append(try RouterdProcess(self.arguments)) }
    }

    deinit { stop() }

    public func stop() {
        for daemon in daemons { _ = try? daemon.stop() }
        daemons = []
        redis?.stop()
        etcd?.stop()
    }

    /// Starts one more routerd on the store; returns its index.
    @discardableResult
    public func join() throws -> Int {
        daemons.append(try RouterdProcess(arguments))
        return daemons.count - 1
    }

    public func connect(_ index: Int) throws -> LineClient {
        try LineClient(path: daemons[index].socket)
    }

    /// Empties the store as its operator would: `FLUSHALL` on Redis, every key under the
    /// table's prefix deleted on etcd.
    public func wipe() {
        switch kind {
        case .redis: redisCLI("FLUSHALL")
        case .etcd: etcd.etcdctl(["del", "--prefix", "t/"])
        }
    }

    /// Runs redis-cli against the test's Redis; returns its output.
    @discardableResult
    public func redisCLI(_ words: String...) -> String {
        let cli = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }!
        let child = try? ChildProcess(cli, ["-s", redis.socket] + words, directory: redis.directory)
        return child?.wait().stdout ?? ""
    }

    /// The etcd keys that start with `prefix` (`t/routes/`).
    public func keys(_ prefix: String) -> [String] {
        etcd.etcdctl(["get", "--prefix", "--keys-only", prefix]).stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
