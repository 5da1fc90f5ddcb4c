import NIOCore
import NIOPosix
import RouterRedis
import RouterTestSupport
import Testing

/// The client against a real redis-server of the test's own on a temporary Unix socket.
@Suite("Redis client against a real redis-server", .serialized)
struct RedisClientTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func pipelinedCommandsAreAnsweredInOrder() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group)
        let connection = try await client.connected()
        let sets = (0..<1000).map { connection.send(["SET", "k\($0)", "v\($0)"]) }
        for set in sets { #expect(try await set.get() == .simpleString("OK")) }
        let gets = try await connection.pipeline((0..<1000).map { ["GET", "k\($0)"] }).get()
        #expect(gets.map(\.string) == (0..<1000).map { "v\($0)" })
        let refused = try await connection.send(["INCR", "k1"]).get()
        guard case .error(let message) = refused else { Issue.record("\(refused)"); return }
        #expect(message.hasPrefix("ERR"))
        #expect(try await client.command(["GET", "k999"]).string == "v999", "the connection goes on after a refusal")
        await client.close()
    }

    @Test func aCommandOnAClosedConnectionFailsRatherThanWaits() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let connection = try await RedisConnection.connect(RedisConfiguration(endpoint: .unix(path: redis.socket)), on: group)
        connection.close()
        while connection.isOpen { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: RedisError.self) { _ = try await connection.send(["PING"]).get() }
        await #expect(throws: RedisError.self) { _ = try await connection.pipeline([["PING"], ["PING"]]).get() }
    }

    @Test func aServerThatStopsAnsweringTimesOutTheCommand() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group,
                                 replyTimeout: .milliseconds(300))
        #expect(try await client.command(["PING"]).string == "PONG")
        redis.pause()
        defer { redis.resume() }
        let started = ContinuousClock.now
        do {
            try await client.command(["PING"])
            Issue.record("a paused server answered")
        } catch {
            #expect(error.isConnectionFailure, "\(error)")
        }
        // Failed, not waiting for ever: the reply timeout is 300 ms; the bound leaves room for a
        // machine busy with every other test (3.3 s was seen under a full CI run).
        #expect(ContinuousClock.now - started < .seconds(15))
        redis.resume()
        #expect(try await client.command(["PING"]).string == "PONG", "a fresh connection once it answers again")
        await client.close()
    }

    @Test func anErrorReplyThrowsWithRedissMessage() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group)
        do {
            try await client.command(["NOSUCHCOMMAND"])
            Issue.record("accepted")
        } catch {
            #expect(error.replyMessage?.contains("unknown command") == true, "\(error)")
            #expect(!error.isConnectionFailure)
        }
        await client.close()
    }

    @Test func logsInAndSelectsTheDatabase() async throws {
        let redis = try RedisServerProcess(["--requirepass", "s3cret"])
        defer { redis.stop() }
        let wrong = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket), password: "nope"), group: group)
        do {
            try await wrong.command(["PING"])
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.description.contains("WRONGPASS") || error.description.contains("invalid password"), "\(error)")
        }
        let url = try RedisConfiguration(url: "redis+unix://\(redis.socket)?db=3", password: "s3cret")
        let client = RedisClient(configuration: url, group: group)
        try await client.command(["SET", "where", "db3"])
        let plain = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket), password: "s3cret"), group: group)
        #expect(try await plain.command(["GET", "where"]).isNull, "db 0 does not see db 3")
        #expect(try await plain.command(["SELECT", "3"]) == .simpleString("OK"))
        #expect(try await plain.command(["GET", "where"]).string == "db3")
        await client.close()
        await plain.close()
    }

    @Test func scriptsRunBySHAAndAreLoadedAgainAfterAFlush() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group)
        let claim = RedisScript("""
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            redis.call('SET', KEYS[1], ARGV[1])
            return redis.call('INCR', KEYS[2])
            """)
        #expect(try await client.evaluate(claim, keys: ["{t}name", "{t}rev"], arguments: ["tunnel-1"]) == .integer(1))
        #expect(try await client.evaluate(claim, keys: ["{t}name", "{t}rev"], arguments: ["tunnel-2"]) == .integer(0))
        try await client.command(["SCRIPT", "FLUSH"])
        #expect(try await client.evaluate(claim, keys: ["{t}other", "{t}rev"], arguments: ["t"]) == .integer(2), "reloaded on NOSCRIPT")
        await client.close()
    }

    @Test func aRestartedServerIsReconnectedToAndAnAbsentOneFailsFast() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group)
        try await client.command(["SET", "a", "1"])
        redis.kill()
        do {
            try await client.command(["GET", "a"])
            Issue.record("answered with the server gone")
        } catch {
            #expect(error.isConnectionFailure, "\(error)")
        }
        let started = ContinuousClock.now
        do {
            try await client.command(["GET", "a"])
            Issue.record("answered with the server gone")
        } catch {
            #expect(error.isConnectionFailure)
        }
        #expect(ContinuousClock.now - started < .seconds(1), "fails fast while the server is away")
        try redis.restart()
        var answered = false
        for _ in 0..<100 where !answered {
            answered = (try? await client.command(["PING"])) == .simpleString("PONG")
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered, "reconnected after the restart")
        await client.close()
    }

    @Test func aPausedServerLeavesTheCallWaitingAndAnswersAfterItGoesOn() async throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let client = RedisClient(configuration: RedisConfiguration(endpoint: .unix(path: redis.socket)), group: group)
        try await client.command(["SET", "p", "1"])
        redis.pause()
        let pending = Task { try await client.command(["GET", "p"]) }
        try await Task.sleep(for: .milliseconds(300))
        redis.resume()
        #expect(try await pending.value.string == "1")
        await client.close()
    }

    @Test(arguments: [
        ("redis://localhost:6380/2", "localhost:6380 db 2"),
        ("redis://alice@10.0.0.1", "10.0.0.1:6379"),
        ("redis://[::1]:7000", "[::1]:7000"),
        ("redis+unix:///run/redis/redis.sock?db=1", "/run/redis/redis.sock db 1"),
    ])
    func urlsName(_ input: (String, String)) throws {
        #expect(try RedisConfiguration(url: input.0).description == input.1)
    }

    @Test(arguments: ["redis://alice:pw@host", "http://host", "redis+unix://relative.sock", "redis://host:99999", "redis://host/x"])
    func badURLsAreRefusedSayingWhy(_ url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }
}
