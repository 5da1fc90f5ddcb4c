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

    /// A route of key `key` made at revision `revision` on tunnel `tunnel`.
    static func route(_ key: String, _ revision: UInt64, tunnel: String = "t1") -> Route {
        Route(key: key, kind: .host, tunnel: try! TunnelID(tunnel), owner: "alice",
              createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 1),
              createRevision: revision, modRevision: revision)
    }

    /// Events numbered from `base + 1`, of (kind, route) pairs.
    static func events(_ changes: [(RouteEvent.Kind, Route)], base: UInt64 = 0) -> [RouteEvent] {
        changes.enumerated().map { RouteEvent(kind: $1.0, revision: base + UInt64($0) + 1, key: $1.1.key, route: $1.1) }
    }

    /// Sends the commit script for `events` drafted on `base`, as the store's writer does.
    static func submit(_ client: RedisClient, _ events: [RouteEvent], base: UInt64, token: String, previous: String = "",
                       store: String = "store1", logLength: Int = 100) async throws -> RedisPendingReply {
        let arguments = RedisStore.commitArguments(keys: RedisKeys(prefix: "t"), storeID: store, base: base, logLength: logLength,
                                                   token: token, previous: previous, events: events,
                                                   entries: RedisLogText.entries(of: events))
        return try await client.submit(RedisScripts.commit, arguments: arguments)
    }

    /// `submit`, then its reply.
    static func commit(_ client: RedisClient, _ events: [RouteEvent], base: UInt64, token: String, previous: String = "",
                       store: String = "store1", logLength: Int = 100) async throws -> RESPValue {
        let sent = try await submit(client, events, base: base, token: token, previous: previous, store: store, logLength: logLength)
        return try await client.reply(to: sent, of: RedisScripts.commit)
    }

    @Test func eachKeyEndsAsItsLastChangeAndEveryChangeIsLogged() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, _) = try await Self.store(on: redis)
        let (x1, x2, y1, y2) = (Self.route("x", 1), Self.route("x", 5), Self.route("y", 3), Self.route("y", 4, tunnel: "t2"))
        let events = Self.events([(.add, x1), (.delete, x1), (.add, y1), (.update, y2), (.add, x2), (.expire, y2)])
        let committed = try await Self.commit(client, events, base: 0, token: "1.1")
        #expect(committed.elements?.map(\.integer) == [1, 6])
        #expect(try await client.command(["HGETALL", keys.routes]).elements?.compactMap(\.string) == ["x", StoredRoute.encode(x2)])
        // One log entry for the commit, its id the last revision, its one field a line a change.
        let log = try await client.command(["XRANGE", keys.log, "-", "+"])
        #expect(log.elements?.compactMap { $0.elements?.first?.string } == ["6-0"])
        let fields = log.elements?.first?.elements?.last?.elements?.compactMap(\.string) ?? []
        #expect(fields.first == "c")
        #expect(fields.last?.split(separator: "\n").map { String($0.prefix { $0 != " " }) } == ["add", "delete", "add", "update", "add", "expire"])
        #expect(try RedisStore.events(fromEntries: log) == events)
        // A draft on a stale base, or against another store, commits nothing.
        let z = Self.events([(.add, Self.route("z", 6))], base: 5)
        let stale = try await Self.commit(client, z, base: 5, token: "1.2")
        #expect(stale.elements?.map(\.integer) == [0, 6])
        let other = try await Self.commit(client, z, base: 6, token: "1.3", store: "store2")
        #expect(other.elements?.first?.integer == -1)
        #expect(try await client.command(["HEXISTS", keys.routes, "z"]).integer == 0)
        await client.close()
    }

    @Test func aKeySetTwiceInACommitWithoutRemovalsEndsAsItsLastSet() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, _) = try await Self.store(on: redis)
        let (a1, a2) = (Self.route("a", 1), Self.route("a", 2, tunnel: "t2"))
        let committed = try await Self.commit(client, Self.events([(.add, a1), (.add, Self.route("b", 2)), (.update, a2)]), base: 0, token: "1.1")
        #expect(committed.elements?.map(\.integer) == [1, 3])
        #expect(try await client.command(["HGET", keys.routes, "a"]).string == StoredRoute.encode(a2))
        await client.close()
    }

    @Test func aDraftMadeOnAChangeUnderWayCommitsOnlyRightAfterIt() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, _) = try await Self.store(on: redis)
        func add(_ key: String, at revision: UInt64) -> [RouteEvent] { Self.events([(.add, Self.route(key, revision))], base: revision - 1) }
        // Node 1 sends a change and, behind it, one drafted on it; both commit, in order.
        let first = try await Self.submit(client, add("a", at: 1), base: 0, token: "1.1")
        let second = try await Self.submit(client, add("b", at: 2), base: 1, token: "1.2", previous: "1.1")
        #expect(try await client.reply(to: first, of: RedisScripts.commit).elements?.map(\.integer) == [1, 1])
        #expect(try await client.reply(to: second, of: RedisScripts.commit).elements?.map(\.integer) == [1, 2])
        #expect(try await client.command(["GET", keys.last]).string == "1.2")
        // Node 1's next change is stale (node 2 committed a change of the same size first), and
        // the one drafted on it must not commit, although the revision is the one it expects.
        let stale = try await Self.commit(client, add("c", at: 2), base: 1, token: "1.3")
        #expect(stale.elements?.map(\.integer) == [0, 2])
        let onStale = try await Self.commit(client, add("d", at: 3), base: 2, token: "1.4", previous: "1.3")
        #expect(onStale.elements?.map(\.integer) == [0, 2])
        #expect(try await client.command(["HKEYS", keys.routes]).elements?.compactMap(\.string).sorted() == ["a", "b"])
        await client.close()
    }

    @Test func aLargeCommitIsLoggedInEntriesThatTheReplicaReadsBackInOrder() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, _) = try await Self.store(on: redis)
        let count = 2 * RedisLogText.entryChanges + 5
        let routes = (1...count).map { Self.route("r\($0).example.com", UInt64($0)) }
        let events = Self.events(routes.map { (.add, $0) })
        let committed = try await Self.commit(client, events, base: 0, token: "1.1", logLength: 100_000)
        #expect(committed.elements?.map(\.integer) == [1, Int64(count)])
        #expect(try await client.command(["HLEN", keys.routes]).integer == Int64(count))
        let log = try await client.command(["XRANGE", keys.log, "-", "+"])
        let ids = log.elements?.compactMap { $0.elements?.first?.string }
        let full = RedisLogText.entryChanges
        #expect(ids == ["\(full)-0", "\(2 * full)-0", "\(count)-0"])
        #expect(try RedisStore.events(fromEntries: log) == events)
        // Read from the middle of an entry on: what came before is left out.
        #expect(try RedisStore.events(fromEntries: log, after: UInt64(full + 3)).first?.revision == UInt64(full + 4))
        #expect(try RedisStore.events(fromEntries: log, after: UInt64(count)).isEmpty)
        await client.close()
    }

    @Test func anEntryOfThisDaemonsCommitUnderWayIsTakenFromItsDraftOnlyWhenItIsTheSame() throws {
        let events = Self.events((1...300).map { (.add, Self.route("r\($0)", UInt64($0))) }, base: 10)
        let entries = RedisLogText.entries(of: events)
        let own = RedisStore.OwnCommit(token: "1.1", base: 10, events: events, entries: entries)
        func reply(_ id: String, _ text: [UInt8]) -> RESPValue {
            .array([.array([.bulkString(Array(id.utf8)), .array([.bulkString(Array("c".utf8)), .bulkString(text)])])])
        }
        #expect(RedisStore.ownEntry(last: 266, text: entries[0].bytes, in: [own]) == events[0..<256])
        #expect(RedisStore.ownEntry(last: 310, text: entries[1].bytes, in: [own]) == events[256..<300])
        // Another daemon's entry at those revisions (other text, or other bounds) is parsed.
        #expect(RedisStore.ownEntry(last: 310, text: entries[0].bytes, in: [own]) == nil)
        #expect(RedisStore.ownEntry(last: 300, text: entries[1].bytes, in: [own]) == nil)
        let theirs = Self.events((1...44).map { (.add, Self.route("s\($0)", UInt64($0))) }, base: 266)
        #expect(try RedisStore.events(fromEntries: reply("310-0", RedisLogText.entries(of: theirs)[0].bytes), own: [own]) == theirs)
    }

    @Test func theLogIsTrimmedToWholeEntriesKeepingAtLeastItsLength() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (client, keys, _) = try await Self.store(on: redis)
        // 400 commits of 10 changes, a log length of 1,000: Redis trims whole nodes of entries
        // (MINID ~), so more may stay, never fewer.
        for n in 0..<400 {
            let events = Self.events((0..<10).map { (.add, Self.route("k\(n).\($0)", UInt64(n * 10 + $0 + 1))) }, base: UInt64(n * 10))
            let reply = try await Self.commit(client, events, base: UInt64(n * 10), token: "1.\(n)", logLength: 1000)
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
        // And the entries of the routerd before this one: a kind and a route a change.
        let pairs = RESPValue.array([.array([.bulkString(Array("8-0".utf8)), .array([
            .bulkString(Array("delete".utf8)), .bulkString(Array(StoredRoute.encode(route).utf8)),
            .bulkString(Array("add".utf8)), .bulkString(Array(StoredRoute.encode(route).utf8)),
        ])])])
        #expect(try RedisStore.events(fromEntries: pairs).map { "\($0.kind) \($0.revision)" } == ["delete 7", "add 8"])
        // An entry's text whose lines are not a kind and a route is named.
        for text in ["add", "touch {}\n", "add {\"key\":1}\n", "\n"] {
            let bad = RESPValue.array([.array([.bulkString(Array("9-0".utf8)), .array([.bulkString(Array("c".utf8)), .bulkString(Array(text.utf8))])])])
            #expect(throws: StoreFormatError.self) { try RedisStore.events(fromEntries: bad) }
        }
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
