import NIOPosix
import RouterRedis
@testable import RouterRedisStore
import RouterTestSupport
import Testing

/// The commit script on its own, against a real redis-server.
@Suite("The commit script")
struct CommitScriptTests {
    @Test func eachKeyEndsAsItsLastChangeAndEveryChangeIsLogged() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)),
                                 group: MultiThreadedEventLoopGroup.singleton)
        let keys = RedisKeys(prefix: "t")
        try await client.command(["SET", keys.id, "store1"])
        let script = [keys.id, keys.revision, keys.routes, keys.log]
        let changes = ["add", "x", "X1", "delete", "x", "X1", "add", "y", "Y1", "update", "y", "Y2", "add", "x", "X2", "expire", "y", "Y2"]
        let committed = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "0", "100"] + changes)
        #expect(committed.elements?.map(\.integer) == [1, 6])
        #expect(try await client.command(["HGETALL", keys.routes]).elements?.compactMap(\.string) == ["x", "X2"])
        let log = try await client.command(["XRANGE", keys.log, "-", "+"]).elements ?? []
        #expect(log.compactMap { $0.elements?.first?.string } == ["1-0", "2-0", "3-0", "4-0", "5-0", "6-0"])
        // A draft on a stale base, or against another store, commits nothing.
        let stale = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "5", "100", "add", "z", "Z"])
        #expect(stale.elements?.map(\.integer) == [0, 6])
        let other = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store2", "6", "100", "add", "z", "Z"])
        #expect(other.elements?.first?.integer == -1)
        #expect(try await client.command(["HEXISTS", keys.routes, "z"]).integer == 0)
        await client.close()
    }
}
