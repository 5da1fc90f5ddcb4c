import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// Several routerd on one Redis serve one table: tests with real redis-server and routerd
/// processes on temporary sockets.
@Suite("Shared store on Redis", .serialized)
struct SharedTableTests {
    @Test func aKeyChangedSeveralTimesInOneCommitEndsAsItsLastChange() throws {
        let store = try SharedStore(daemons: 2)
        let a = try store.connect(0)
        // One burst: the writer commits these together, so each key's changes meet in one script.
        try a.send([#"{"op":"add","key":"x","tunnel":"t"}"#, #"{"op":"delete","key":"x"}"#, #"{"op":"add","key":"y","tunnel":"t"}"#,
                    #"{"op":"delete","key":"y"}"#, #"{"op":"add","key":"y","tunnel":"u"}"#].joined(separator: "\n"))
        for _ in 0..<5 { let r = try a.readJSON(); #expect(r["ok"] == .bool(true), "\(r)") }
        #expect(store.redisCLI("HKEYS", "{router}:routes").split(separator: "\n") == ["y.example.com"])
        #expect(try eventually { try store.connect(1).routes() == ["y.example.com": "u"] })
    }

    @Test func writesFailFastWhileRedisIsPausedAndReadsGoOn() throws {
        let store = try SharedStore(daemons: 1)
        let a = try store.connect(0)
        #expect(try a.request(#"{"id":1,"op":"add","key":"kept","tunnel":"t"}"#)["ok"] == .bool(true))
        store.redis.pause()
        defer { store.redis.resume() }
        let started = Date()
        let refused = try a.request(#"{"id":2,"op":"add","key":"new","tunnel":"t"}"#)
        #expect(refused["error"]?["code"] == .string("unavailable"))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try a.request(#"{"id":3,"op":"lookup","key":"kept"}"#)["ok"] == .bool(true))
        let stats = try a.request(#"{"id":4,"op":"stats"}"#)
        #expect(stats["result"]?["store"]?["available"] == .bool(false))
        // Known to be away: the next write fails at once, not after the reply timeout (1 s).
        let known = Date()
        let atOnce = try a.request(#"{"id":41,"op":"add","key":"other","tunnel":"t"}"#)
        #expect(atOnce["error"]?["code"] == .string("unavailable"))
        #expect(atOnce["error"]?["message"]?.stringValue?.contains("is unreachable") == true, "\(atOnce)")
        #expect(Date().timeIntervalSince(known) < 0.5, "a write to a store known to be away waited for it")
        let shown = try ChildProcess(productsDirectory + "/routerctl", ["--socket", store.daemons[0].socket, "stats"],
                                     directory: store.redis.directory).wait(timeout: 20)
        #expect(shown.stdout.contains("store:") && shown.stdout.contains("UNAVAILABLE"), "\(shown.stdout)")
        store.redis.resume()
        #expect(try eventually(timeout: 15) {
            try a.request(#"{"id":5,"op":"add","key":"new","tunnel":"t"}"#)["ok"] == .bool(true)
        })
        #expect(try a.routes().keys.sorted() == ["kept.example.com", "new.example.com"])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
    func readyzSaysWhenTheStoreIsAway() throws {
        let dir = makeTemporaryDirectory("readyz-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/tokens", contents: Data("ops 0123456789abcdef0123 admin\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let store = try SharedStore(daemons: 1, arguments: ["--http", "0", "--http-tokens", dir + "/tokens", "--log-level", "notice"])
        let port = try store.daemons[0].httpPort()
        func readyz() throws -> (Int, String) {
            let run = try ChildProcess("/usr/bin/curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/readyz"],
                                       directory: dir).wait(timeout: 20)
            let lines = run.stdout.split(separator: "\n")
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined())
        }
        #expect(try eventually { try readyz().0 == 200 })
        store.redis.pause()
        defer { store.redis.resume() }
        var answer = (0, "")
        #expect(try eventually(timeout: 15) {
            answer = try readyz()
            return answer.0 == 503
        })
        #expect(answer.1.contains(#""status":"unavailable""#), "\(answer)")
        store.redis.resume()
        #expect(try eventually(timeout: 15) { try readyz().0 == 200 })
    }

    @Test func aDaemonBehindTheLogsTrimmedTailLoadsTheTableAgain() throws {
        let store = try SharedStore(daemons: 2, arguments: ["--store-log-length", "1000"])
        let b = try store.connect(1)
        _ = try b.startWatch()
        store.daemons[1].process.signal(SIGSTOP)
        defer { store.daemons[1].process.signal(SIGCONT) }
        // More changes than the log keeps (about 1,000), while B sleeps.
        let a = try store.connect(0)
        for chunk in 0..<5 {
            try a.send((0..<1000).map { #"{"op":"add","key":"n\#(chunk)-\#($0)"}"# }.joined(separator: "\n"))
            for _ in 0..<1000 { _ = try a.readLine(timeout: 60) }
        }
        store.daemons[1].process.signal(SIGCONT)
        var end: JSONValue = .null
        repeat { end = try b.readJSON(timeout: 30) } while end["event"] != nil
        #expect(end["error"]?["code"] == .string("compacted"), "\(end)")
        #expect(end["error"]?["details"]?["reason"] == .string("store_reset"))
        #expect(try eventually(timeout: 30) { try store.connect(1).routes().count == 5_000 })
    }

    @Test func flushallEndsWatchesWithStoreResetAndEmptiesTables() throws {
        let store = try SharedStore(daemons: 2)
        let a = try store.connect(0)
        _ = try a.request(#"{"id":1,"op":"add","key":"gone","tunnel":"t"}"#)
        let watcher = try store.connect(1)
        #expect(try eventually { try watcher.routes().count == 1 })
        _ = try watcher.startWatch()
        store.redisCLI("FLUSHALL")
        let end = try watcher.readJSON(timeout: 15)
        #expect(end["error"]?["code"] == .string("compacted"), "\(end)")
        #expect(end["error"]?["details"]?["reason"] == .string("store_reset"))
        for i in 0..<2 { #expect(try eventually { try store.connect(i).routes().isEmpty }) }
        // The table works again, under a new store id.
        #expect(try eventually {
            try store.connect(0).request(#"{"id":2,"op":"add","key":"fresh","tunnel":"t"}"#)["ok"] == .bool(true)
        })
        #expect(try store.connect(1).greeting["instance"] != a.greeting["instance"])
    }

    @Test func redisRestartedFromItsAppendOnlyFileLosesNoAcknowledgedRoute() throws {
        let store = try SharedStore(daemons: 2, redisArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        let a = try store.connect(0)
        for i in 0..<200 { try a.send(#"{"id":\#(i),"op":"add","key":"d\#(i)","tunnel":"t\#(i % 7)"}"#) }
        var acknowledged: Set<String> = []
        for _ in 0..<200 {
            let reply = try a.readJSON()
            if reply["ok"] == .bool(true), let key = reply["result"]?["route"]?["key"]?.stringValue { acknowledged.insert(key) }
        }
        #expect(acknowledged.count == 200)
        store.redis.kill()
        try store.redis.restart()
        #expect(try eventually(timeout: 15) {
            try store.connect(1).request(#"{"id":1,"op":"add","key":"after","tunnel":"t"}"#)["ok"] == .bool(true)
        })
        for i in 0..<2 {
            let keys = Set(try store.connect(i).routes().keys)
            #expect(acknowledged.isSubset(of: keys))
        }
    }

}

@Suite("routerd --store: start-up and credentials")
struct StoreStartTests {
    @Test func theRedisPasswordComesFromTheEnvironmentOrAFile() throws {
        let redis = try RedisServerProcess(["--requirepass", "s3cret"])
        defer { redis.stop() }
        let url = "redis+unix://\(redis.socket)"
        let fromEnvironment = try RouterdProcess(["--store", url], environment: ["ROUTER_REDIS_PASSWORD": "s3cret"])
        #expect(try LineClient(path: fromEnvironment.socket).greeting["store"]?["kind"] == .string("redis"))
        try fromEnvironment.stop()

        let dir = makeTemporaryDirectory("pw-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/pw", contents: Data("s3cret\n".utf8), attributes: [.posixPermissions: 0o600])
        let fromFile = try RouterdProcess(["--store", url, "--store-password-file", dir + "/pw"])
        #expect(try LineClient(path: fromFile.socket).request(#"{"id":1,"op":"add","key":"x","tunnel":"t"}"#)["ok"] == .bool(true))
        try fromFile.stop()

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/pw")
        let open = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", url, "--store-password-file", dir + "/pw"],
                                    directory: dir).wait(timeout: 20)
        #expect(open.status == 1 && open.stderr.contains("readable by group or others"), "\(open.stderr)")
    }

    @Test func anACLUserOverTCPAndADatabaseNumber() throws {
        let port = freeTCPPort()
        let redis = try RedisServerProcess(["--port", String(port), "--bind", "127.0.0.1",
                                            "--user", "router", "on", ">pw2", "~*", "&*", "+@all", "--user", "default", "off"])
        defer { redis.stop() }
        let daemon = try RouterdProcess(["--store", "redis://router@127.0.0.1:\(port)/2", "--domain", "example.com"],
                                        environment: ["ROUTER_REDIS_PASSWORD": "pw2"])
        defer { _ = try? daemon.stop() }
        #expect(try LineClient(path: daemon.socket).request(#"{"id":1,"op":"add","key":"x","tunnel":"t"}"#)["ok"] == .bool(true))
        let cli = try ChildProcess("/usr/bin/redis-cli", ["-p", String(port), "--user", "router", "--pass", "pw2", "--no-auth-warning",
                                                          "-n", "2", "HKEYS", "{router}:routes"], directory: redis.directory).wait(timeout: 20)
        #expect(cli.stdout.contains("x.example.com"), "\(cli.stdout) \(cli.stderr)")
    }

    @Test func routerdDoesNotStartWithoutItsStoreAndSaysWhich() throws {
        let redis = try RedisServerProcess(["--requirepass", "s3cret"])
        defer { redis.stop() }
        let dir = makeTemporaryDirectory("nostore-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrong = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", "redis+unix://\(redis.socket)"],
                                     directory: dir).wait(timeout: 20)
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("cannot open --store redis+unix://") && wrong.stderr.contains(redis.socket), "\(wrong.stderr)")
        let absent = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", "redis+unix://\(dir)/none.sock"],
                                      directory: dir).wait(timeout: 20)
        #expect(absent.status == 1 && absent.stderr.contains("none.sock: No such file or directory"), "\(absent.stderr)")
        // One line: the flag, the address, the cause; no SwiftNIO internals.
        let refused = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", "redis://127.0.0.1:1"],
                                       directory: dir).wait(timeout: 20)
        #expect(refused.status == 1 && refused.stderr == "routerd: cannot open --store redis://127.0.0.1:1 (Redis at 127.0.0.1:1, prefix router): " +
                "Redis connection: cannot connect to 127.0.0.1:1: Connection refused\n", "\(refused.stderr)")
        let url = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", "redis://u:pw@host:6379"],
                                   directory: dir).wait(timeout: 20)
        #expect(url.status == 64 && url.stderr.contains("ROUTER_REDIS_PASSWORD"), "\(url.stderr)")
        for bad in ["redis://[::1", "redis://::1", "redis://[::1]x"] {
            let r = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", bad], directory: dir).wait(timeout: 20)
            #expect(r.status == 64 && r.stderr.contains("--store"), "\(bad): \(r.stderr)")
        }
    }
}
