import Foundation
import RouterProtocol
import RouterTestSupport

/// An etcd cluster of the test's own and routerd processes sharing one table in it.
final class EtcdSharedStore {
    let etcd: EtcdClusterProcess
    private(set) var daemons: [RouterdProcess] = []
    let arguments: [String]

    /// Starts etcd (`members` of them) and `count` routerd on it.
    init(daemons count: Int, members: Int = 1, arguments: [String] = []) throws {
        etcd = try EtcdClusterProcess(members: members)
        self.arguments = ["--store", etcd.url, "--store-prefix", "t", "--domain", "example.com"] + arguments
        for _ in 0..<count { daemons.append(try RouterdProcess(self.arguments)) }
    }

    deinit { stop() }

    func stop() {
        for daemon in daemons { _ = try? daemon.stop() }
        daemons = []
        etcd.stop()
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

    /// The keys under the table's prefix that start with `prefix` (`t/routes/`).
    func keys(_ prefix: String) -> [String] {
        etcd.etcdctl(["get", "--prefix", "--keys-only", prefix]).stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}

/// Whether etcd is installed (scripts/install-packages.sh test installs it).
let etcdInstalled = EtcdClusterProcess.executable != nil && EtcdClusterProcess.etcdctlPath != nil
