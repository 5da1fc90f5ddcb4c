import RouterTestSupport

/// A redis-server of the test's own and routerd processes sharing one table in it.
typealias SharedStore = SharedStoreDaemons

extension SharedStoreDaemons {
    /// Starts Redis (with `redisArguments`) and `count` routerd on it.
    convenience init(daemons count: Int, redisArguments: [String] = [], arguments: [String] = []) throws {
        try self.init(.redis, daemons: count, redisArguments: redisArguments, arguments: arguments)
    }
}
