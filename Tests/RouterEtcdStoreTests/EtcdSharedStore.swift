import RouterTestSupport

/// An etcd cluster of the test's own and routerd processes sharing one table in it (keys
/// under `t/`).
typealias EtcdSharedStore = SharedStoreDaemons

extension SharedStoreDaemons {
    /// Starts etcd (`members` of them) and `count` routerd on it.
    convenience init(daemons count: Int, members: Int = 1, arguments: [String] = []) throws {
        try self.init(.etcd, daemons: count, members: members, arguments: arguments)
    }
}

/// Whether etcd is installed (scripts/install-packages.sh test installs it).
let etcdInstalled = SharedStoreKind.installed.contains(.etcd)
