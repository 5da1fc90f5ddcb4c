import NIOPosix
import DomainRouter
import RouterEngine
import RouterRedis
@testable import RouterRedisStore
import RouterTestSupport
import Testing

/// The commit script on its own, against a real redis-server.
@Suite("The commit script")
struct CommitScriptTests {
    /// A client of `redis` holding store "store1" under prefix "t", and the commit script's keys.
    static func store(on redis: RedisServerProcess) async throws -> (RedisClient, RedisKeys, [String]) {
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)),
                                 group: MultiThreadedEventLoopGroup.singleton)
        let keys = RedisKeys(prefix: "t")
        try await client.command(["SET", keys.id, "store1"])
        return (client, keys, [keys.id, keys.revision, keys.routes, keys.log, keys.last])
    }

    @Test func eachKeyEndsAsItsLastChangeAndEveryChangeIsLogged() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, script) = try await Self.store(on: redis)
        let changes = ["add", "x", "X1", "delete", "x", "X1", "add", "y", "Y1", "update", "y", "Y2", "add", "x", "X2", "expire", "y", "Y2"]
        let committed = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "0", "100", "1.1", ""] + changes)
        #expect(committed.elements?.map(\.integer) == [1, 6])
        #expect(try await client.command(["HGETALL", keys.routes]).elements?.compactMap(\.string) == ["x", "X2"])
        // One log entry for the commit, its id the last revision, its fields (kind, route) pairs.
        let log = try await client.command(["XRANGE", keys.log, "-", "+"]).elements ?? []
        #expect(log.compactMap { $0.elements?.first?.string } == ["6-0"])
        #expect(log.first?.elements?.last?.elements?.compactMap(\.string) == ["add", "X1", "delete", "X1", "add", "Y1", "update", "Y2", "add", "X2", "expire", "Y2"])
        // A draft on a stale base, or against another store, commits nothing.
        let stale = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "5", "100", "1.2", "", "add", "z", "Z"])
        #expect(stale.elements?.map(\.integer) == [0, 6])
        let other = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store2", "6", "100", "1.3", "", "add", "z", "Z"])
        #expect(other.elements?.first?.integer == -1)
        #expect(try await client.command(["HEXISTS", keys.routes, "z"]).integer == 0)
        await client.close()
    }

    @Test func aDraftMadeOnAChangeUnderWayCommitsOnlyRightAfterIt() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, script) = try await Self.store(on: redis)
        // Node 1 sends a change and, behind it, one drafted on it; both commit, in order.
        let first = try await client.submit(RedisScripts.commit, keys: script, arguments: ["store1", "0", "100", "1.1", "", "add", "a", "A"])
        let second = try await client.submit(RedisScripts.commit, keys: script, arguments: ["store1", "1", "100", "1.2", "1.1", "add", "b", "B"])
        #expect(try await client.reply(to: first, of: RedisScripts.commit).elements?.map(\.integer) == [1, 1])
        #expect(try await client.reply(to: second, of: RedisScripts.commit).elements?.map(\.integer) == [1, 2])
        #expect(try await client.command(["GET", keys.last]).string == "1.2")
        // Node 1's next change is stale (node 2 committed a change of the same size first), and
        // the one drafted on it must not commit, although the revision is the one it expects.
        let stale = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "1", "100", "1.3", "", "add", "c", "C"])
        #expect(stale.elements?.map(\.integer) == [0, 2])
        let onStale = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "2", "100", "1.4", "1.3", "add", "d", "D"])
        #expect(onStale.elements?.map(\.integer) == [0, 2])
        #expect(try await client.command(["HKEYS", keys.routes]).elements?.compactMap(\.string).sorted() == ["a", "b"])
        await client.close()
    }

    @Test func aLargeCommitIsLoggedInEntriesThatTheReplicaReadsBackInOrder() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, script) = try await Self.store(on: redis)
        let count = 2 * RedisScripts.entryChanges + 5
        let routes = (1...count).map { Route(key: "r\($0).example.com", kind: .host, tunnel: try! TunnelID("t1"), owner: "alice",
                                             createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 1),
                                             createRevision: UInt64($0), modRevision: UInt64($0)) }
        let changes = routes.flatMap { ["add", $0.key, StoredRoute.encode($0)] }
        let committed = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", "0", "100000", "1.1", ""] + changes)
        #expect(committed.elements?.map(\.integer) == [1, Int64(count)])
        let log = try await client.command(["XRANGE", keys.log, "-", "+"])
        let ids = log.elements?.compactMap { $0.elements?.first?.string }
        let full = RedisScripts.entryChanges
        #expect(ids == ["\(full)-0", "\(2 * full)-0", "\(count)-0"])
        let events = try RedisStore.events(fromEntries: log)
        #expect(events.map(\.revision) == (1...count).map { UInt64($0) })
        #expect(events.map(\.key) == routes.map(\.key))
        #expect(events.allSatisfy { $0.kind == .add })
        // Read from the middle of an entry on: what came before is left out.
        #expect(try RedisStore.events(fromEntries: log, after: UInt64(full + 3)).first?.revision == UInt64(full + 4))
        await client.close()
    }

    @Test func theLogIsTrimmedToWholeEntriesKeepingAtLeastItsLength() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, script) = try await Self.store(on: redis)
        // 400 commits of 10 changes, a log length of 1,000: Redis trims whole nodes of entries
        // (MINID ~), so more may stay, never fewer.
        for n in 0..<400 {
            let changes = (0..<10).flatMap { ["add", "k\(n).\($0)", "R"] }
            let reply = try await client.evaluate(RedisScripts.commit, keys: script, arguments: ["store1", String(n * 10), "1000", "1.\(n)", ""] + changes)
            #expect(reply.elements?.first?.integer == 1)
        }
        let first = try await client.command(["XRANGE", keys.log, "-", "+", "COUNT", "1"]).elements?.first?.elements?.first?.string
        let firstEnd = try #require(first.flatMap { Int($0.split(separator: "-")[0]) })
        #expect(firstEnd - 9 <= 4000 - 1000 + 1, "the log starts at revision \(firstEnd - 9): fewer than 1,000 changes kept")
        #expect(try await client.command(["XLEN", keys.log]).integer! < 400, "nothing was trimmed")
        await client.close()
    }

    @Test func entriesOfOneChangeAsEarlierRouterdWroteThemAreRead() throws {
        let route = Route(key: "a.example.com", kind: .host, tunnel: try TunnelID("t1"), owner: "alice",
                          createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 1),
                          createRevision: 7, modRevision: 7)
        let old = RESPValue.array([.array([.bulkString(Array("7-0".utf8)), .array([
            .bulkString(Array("k".utf8)), .bulkString(Array("add".utf8)), .bulkString(Array("r".utf8)), .bulkString(Array(StoredRoute.encode(route).utf8)),
        ])])])
        let events = try RedisStore.events(fromEntries: old)
        #expect(events.map(\.revision) == [7] && events.first?.route == route)
        // What is not pairs of a kind and a route is named.
        let bad = RESPValue.array([.array([.bulkString(Array("7-0".utf8)), .array([.bulkString(Array("add".utf8))])])])
        #expect(throws: StoreFormatError.self) { try RedisStore.events(fromEntries: bad) }
    }

    @Test func leasesLapsedAnHourAgoAreForgotten() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)),
                                 group: MultiThreadedEventLoopGroup.singleton)
        let keys = RedisKeys(prefix: "t")
        let now: Int64 = 1_800_000_000_000
        try await client.command(["HSET", keys.leases, "7", String(now - 3_700_000), "8", String(now - 60_000)])
        let reply = try await client.evaluate(RedisScripts.lease, keys: [keys.leases],
                                              arguments: ["9", String(now + 5000), String(now)])
        let flat = reply.elements?.compactMap(\.string) ?? []
        #expect(Set(stride(from: 0, to: flat.count, by: 2).map { flat[$0] }) == ["8", "9"])
        #expect(try await client.command(["HEXISTS", keys.leases, "7"]).integer == 0)
        await client.close()
    }
}
