import Foundation
import GRDB
import RouterProtocol
import RouterTestSupport
import Testing

/// routerd with `--db`: real routerd processes on a real SQLite file, stopped, killed and
/// started again on it.
@Suite("State file (--db)")
struct StateFileTests {
    /// A folder for a state file that outlives the daemons started on it.
    final class Home: @unchecked Sendable {
        let directory = makeTemporaryDirectory("db-")
        var db: String { directory + "/state.db" }
        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func start(_ arguments: [String] = []) throws -> RouterdProcess {
            try RouterdProcess(["--db", db, "--domain", "example.com", "--log-level", "warning"] + arguments)
        }

        /// Runs routerctl against `daemon` and returns what it printed.
        @discardableResult
        func routerctl(_ daemon: RouterdProcess, _ arguments: [String], stdin: String = "",
                       environment: [String: String] = [:]) throws -> Finished {
            var env = environment
            env["ROUTER_SOCKET"] = daemon.socket
            env["NO_COLOR"] = "1"
            return try ChildProcess(productsDirectory + "/routerctl", arguments, stdin: stdin, environment: env,
                                    directory: directory).wait(timeout: 120)
        }

        /// Every file in the folder but the lock's pid file, with its bytes: what a refused
        /// start must leave exactly as it found.
        func files() throws -> [String: Data] {
            var files: [String: Data] = [:]
            let ours = ["stdin-", "stdout-", "stderr-"]  // ChildProcess's own files
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where !name.hasSuffix(".lock") && !ours.contains(where: name.hasPrefix) {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            }
            return files
        }

        /// routerd on `path` (the state file unless given), expected to refuse to start.
        func refusedStart(_ path: String? = nil) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerd", ["--socket", directory + "/r.sock", "--db", path ?? db],
                             directory: directory).wait(timeout: 60)
        }

        func rows(_ sql: String) throws -> Int {
            let queue = try DatabaseQueue(path: db)
            return try queue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
        }
    }

    @Test func aRestartKeepsEveryFieldTheRevisionsAndTheIdentity() throws {
        let home = Home()
        let first = try home.start()
        for line in ["add foo --tunnel t1 --target 127.0.0.1:8080 --label env=prod --label team=a",
                     "add *.apps.example.com --tunnel t2 --ttl 1h", "add tcp:auto --tunnel t3 --target [::1]:22",
                     "add bar --tunnel t1", "delete bar"] {
            let r = try home.routerctl(first, line.split(separator: " ").map(String.init))
            #expect(r.status == 0, "\(line): \(r.stderr)")
        }
        let before = try home.routerctl(first, ["list", "-o", "json"]).stdout
        let ping = try home.routerctl(first, ["ping", "-o", "json"]).stdout
        try first.stop()
        let second = try home.start()
        defer { _ = try? second.stop() }
        #expect(try home.routerctl(second, ["list", "-o", "json"]).stdout == before)
        #expect(try home.routerctl(second, ["ping", "-o", "json"]).stdout == ping, "same instance, same revision (5)")
        let add = try home.routerctl(second, ["add", "next", "--tunnel", "t1", "-o", "json"]).stdout
        #expect(add.contains(#""create_revision":6"#), "the revisions continue: \(add)")
        var mode = stat()
        stat(home.db, &mode)
        #expect(mode.st_mode & 0o777 == 0o600)
        #expect(try home.rows("PRAGMA page_size") == 16384, "a new file gets 16 KiB pages")
        #expect(try home.rows("PRAGMA user_version") == 2)
    }

    @Test func aStoppedRouterdLeavesEverythingInTheFileAndAnEmptyLog() throws {
        let home = Home()
        let daemon = try home.start()
        let lines = (0..<2000).map { "add s\($0) --tunnel t\($0 % 10)\n" }.joined()
        let batch = try home.routerctl(daemon, ["batch", "-q"], stdin: lines)
        #expect(batch.status == 0, "\(batch.stderr)")
        try daemon.stop()
        var log = stat()
        #expect(stat(home.db + "-wal", &log) != 0 || log.st_size == 0, "the log was copied into the file and emptied at stop")
        #expect(try home.rows("SELECT count(*) FROM routes") == 2000)
    }

    @Test func aWatchResumesAcrossARestartFromTheStoredHistory() throws {
        let home = Home()
        let first = try home.start()
        for name in ["a", "b", "c"] { #expect(try home.routerctl(first, ["add", name, "--tunnel", "t1"]).status == 0) }
        let instance = try #require(try LineClient(path: first.socket).greeting["instance"]?.stringValue)
        try first.stop()
        let second = try home.start()
        defer { _ = try? second.stop() }
        let client = try LineClient(path: second.socket)
        try client.send(#"{"id":1,"op":"watch","from_revision":2,"instance":"\#(instance)"}"#)
        let events = try (0..<3).map { _ in try client.readJSON() }
        #expect(events.map { $0["event"]?["type"]?.stringValue } == ["add", "add", "sync"], "\(events)")
        #expect(events.map { $0["event"]?["key"]?.stringValue } == ["b.example.com", "c.example.com", nil])
    }

    @Test func aRouteWhoseTTLRanOutWhileRouterdWasDownExpiresAtStartWithAnEvent() throws {
        let home = Home()
        let first = try home.start()
        #expect(try home.routerctl(first, ["add", "brief", "--tunnel", "t1", "--ttl", "1s"]).status == 0)
        #expect(try home.routerctl(first, ["add", "stays", "--tunnel", "t1"]).status == 0)
        try first.stop()
        usleep(1_500_000)
        let second = try home.start()
        defer { _ = try? second.stop() }
        let client = try LineClient(path: second.socket)
        try client.send(#"{"id":1,"op":"watch","from_revision":3}"#)
        // The expiry is committed as the daemon starts: replayed, or live just after the sync.
        var event = try client.readJSON()
        if event["event"]?["type"]?.stringValue == "sync" { event = try client.readJSON() }
        #expect(event["event"]?["type"]?.stringValue == "expire" && event["event"]?["key"]?.stringValue == "brief.example.com", "\(event)")
        #expect(event["event"]?["revision"]?.integerValue == 3)
        #expect(try home.routerctl(second, ["lookup", "brief"]).status == 1)
        #expect(try home.routerctl(second, ["lookup", "stays"]).status == 0)
    }

    @Test func sessionRoutesComeBackHeldForTheGraceThenGo() throws {
        let home = Home()
        let first = try home.start(["--grace", "1s"])
        let holder = try LineClient(path: first.socket)
        #expect(try holder.request(#"{"id":1,"op":"add","key":"held","tunnel":"t1","session":true}"#)["ok"] == .bool(true))
        try first.stop()
        let second = try home.start(["--grace", "1s"])
        defer { _ = try? second.stop() }
        #expect(try home.routerctl(second, ["lookup", "held"]).status == 0, "held for the grace after the restart")
        #expect(eventually(timeout: 10) { (try? home.routerctl(second, ["lookup", "held"]).status) == 1 }, "gone after it")
        let history = try home.routerctl(second, ["history", "held", "-o", "json"]).stdout
        #expect(history.contains(#""type":"expire""#), "\(history)")
    }

    @Test func aSessionResumedWithinTheGraceAfterARestartKeepsItsRoutes() throws {
        let home = Home()
        let first = try home.start(["--grace", "2s"])
        let holder = try LineClient(path: first.socket)
        let token = try #require(holder.greeting["session"]?["resume_token"]?.stringValue)
        #expect(try holder.request(#"{"id":1,"op":"add","key":"kept","tunnel":"t1","session":true}"#)["ok"] == .bool(true))
        holder.close()
        try first.stop()
        let second = try home.start(["--grace", "2s"])
        defer { _ = try? second.stop() }
        let resumer = try LineClient(path: second.socket)
        let resumed = try resumer.request(#"{"id":1,"op":"hello","resume":"\#(token)"}"#)
        #expect(resumed["result"]?["resumed"]?.integerValue == 1, "\(resumed)")
        usleep(3_000_000)
        #expect(try home.routerctl(second, ["lookup", "kept"]).status == 0, "the resumed session holds it past the grace")
        let again = try LineClient(path: second.socket).request(#"{"id":1,"op":"hello","resume":"\#(token)"}"#)
        #expect(again["error"]?["code"]?.stringValue == "not_found", "a token resumes once: \(again)")
    }

    @Test func aKillDuringAPipelinedLoadLosesNoAnsweredAdd() throws {
        let home = Home()
        let first = try home.start()
        let client = try LineClient(path: first.socket)
        let total = 100_000
        var lines: [UInt8] = []
        for i in 0..<total { lines += Array(#"{"id":\#(i),"op":"add","key":"k\#(i)","tunnel":"t\#(i % 10)","target":"127.0.0.1:\#(1000 + i % 50000)"}"#.utf8) + [0x0A] }
        // Written from another thread while this one reads the answers (the socket buffers
        // hold far less than 100,000 requests); the write fails once routerd is killed.
        let (fd, bytes) = (client.fd, lines)
        let writer = Thread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                offset += n
            }
        }
        writer.start()
        var answered: [Int] = []
        while answered.count < 20_000 {
            let reply = try client.readJSON(timeout: 60)
            if reply["ok"] == .bool(true), let id = reply["id"]?.integerValue { answered.append(Int(id)) }
        }
        first.process.signal(SIGKILL)
        _ = first.process.wait(timeout: 10)
        let second = try home.start()
        defer { _ = try? second.stop() }
        let listed = Set(try home.routerctl(second, ["list", "-o", "name"]).stdout.split(separator: "\n").map(String.init))
        let missing = answered.filter { !listed.contains("k\($0).example.com") }
        #expect(missing.isEmpty, "\(missing.count) answered adds are gone, e.g. \(missing.prefix(5))")
        // Nothing half-applied: every route in the file came with its history entry, and the
        // revision is the number of changes.
        let stats = try home.routerctl(second, ["stats", "-o", "json"]).stdout
        #expect(stats.contains(#""revision":\#(listed.count),"#), "\(listed.count) routes: \(stats.prefix(200))")
        #expect(try home.rows("SELECT count(*) FROM history") == listed.count)
        let full = try home.routerctl(second, ["lookup", "k\(answered.last!)", "-o", "json"]).stdout
        #expect(full.contains(#""target":"127.0.0.1:"#), "\(full)")
    }

    @Test func historyAnswersByKeyOwnerTunnelAndTimeAndANonAdminSeesTheirOwn() throws {
        let home = Home()
        let tokens = home.directory + "/tokens"
        try "alice alice-token-0123456789ab\nbob bob-token-0123456789abcd\nops ops-token-0123456789abcd admin\n"
            .write(toFile: tokens, atomically: false, encoding: .utf8)
        chmod(tokens, 0o600)
        let daemon = try home.start(["--http", "127.0.0.1:0", "--http-tokens", tokens, "--log-level", "notice"])
        defer { _ = try? daemon.stop() }
        let port = try daemon.httpPort()
        let token = ["alice": "alice-token-0123456789ab", "bob": "bob-token-0123456789abcd", "ops": "ops-token-0123456789abcd"]
        func as_(_ who: String, _ arguments: [String]) throws -> Finished {
            try home.routerctl(daemon, arguments, environment: ["ROUTER_URL": "http://127.0.0.1:\(port)", "ROUTER_TOKEN": token[who]!])
        }
        for (who, line) in [("alice", "add shop --tunnel ta --label v=1"), ("bob", "add blog --tunnel tb"),
                            ("alice", "add shop --tunnel ta --label v=2"), ("alice", "delete shop")] {
            let r = try as_(who, line.split(separator: " ").map(String.init))
            #expect(r.status == 0, "\(who): \(line): \(r.stderr)")
        }
        let byKey = try as_("ops", ["history", "shop", "-o", "json"]).stdout.split(separator: "\n")
        try #require(byKey.count == 3, "\(byKey)")
        #expect(byKey[0].contains(#""type":"delete""#) && byKey[2].contains(#""type":"add""#), "\(byKey)")
        #expect(byKey[1].contains(#""before":{"#) && byKey[1].contains(#""v":"1""#) && byKey[1].contains(#""v":"2""#), "\(byKey[1])")
        #expect(byKey[0].contains(#""principal":"alice""#) && byKey[0].contains(#""peer":"token alice from 127.0.0.1:"#))
        let byOwner = try as_("ops", ["history", "--owner", "bob", "-o", "name"]).stdout
        #expect(byOwner == "blog.example.com\n")
        let byTunnel = try as_("ops", ["history", "--tunnel", "ta", "-o", "name"]).stdout
        #expect(byTunnel.split(separator: "\n").count == 3)
        #expect(try as_("ops", ["history", "--since", "1h", "-o", "name"]).stdout.split(separator: "\n").count == 4)
        let bobs = try as_("bob", ["history", "-o", "name"]).stdout
        #expect(bobs == "blog.example.com\n", "bob sees his own: \(bobs)")
        let prying = try as_("bob", ["history", "--owner", "alice"])
        #expect(prying.status == 77 && prying.stderr.contains("only admins"), "\(prying)")
        let table = try home.routerctl(daemon, ["history", "--limit", "2"]).stdout
        #expect(table.hasPrefix("REV  TIME") && table.split(separator: "\n").count == 3, "\(table)")
    }

    @Test func changesToOneKeyInOneCommitEachRecordTheRouteTheOneBeforeLeft() throws {
        let home = Home()
        let daemon = try home.start()
        defer { _ = try? daemon.stop() }
        try home.routerctl(daemon, ["add", "k", "--tunnel", "t1", "--label", "v=0"])
        let client = try LineClient(path: daemon.socket)
        let reply = try client.request(#"""
            {"id":1,"op":"batch","atomic":true,"ops":[{"op":"delete","key":"k"},{"op":"add","key":"k","tunnel":"t1","labels":{"v":"1"}},{"op":"touch","key":"k","ttl":60},{"op":"add","key":"other","tunnel":"t1"}]}
            """#)
        #expect(reply["ok"] == .bool(true), "\(reply)")
        let history = try home.routerctl(daemon, ["history", "k", "-o", "json"]).stdout.split(separator: "\n").map(String.init)
        try #require(history.count == 4, "\(history)")
        // Newest first: the touch replaced the re-added route, the re-add replaced nothing, the
        // delete removed the first route.
        #expect(history[0].contains(#""type":"update""#) && history[0].contains(#""before":{"#) && history[0].contains(#""v":"1""#))
        #expect(!history[0].contains(#""v":"0""#), "the touch's before is the re-added route, not the first: \(history[0])")
        #expect(history[1].contains(#""type":"add""#) && !history[1].contains(#""before":{"#), "\(history[1])")
        #expect(history[2].contains(#""type":"delete""#) && history[2].contains(#""v":"0""#), "\(history[2])")
    }

    @Test func concurrentChangesToOneKeyEachRecordTheRouteTheOneBeforeLeft() async throws {
        // Two clients update one key while a third loads routes in bulk: the writer drafts runs
        // on runs still being written, and each history row's `before` must still be the
        // `after` of the change before it, and the file's route the last one's.
        let home = Home()
        let daemon = try home.start()
        defer { _ = try? daemon.stop() }
        try home.routerctl(daemon, ["add", "k", "--tunnel", "t1", "--label", "n=start"])
        let socket = daemon.socket
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let bulk = try LineClient(path: socket)
                var lines = ""
                for i in 0..<20_000 { lines += #"{"op":"add","key":"bulk\#(i)","tunnel":"t2"}"# + "\n" }
                try bulk.sendRaw(Array(lines.utf8))
                for _ in 0..<20_000 { _ = try bulk.readLine(timeout: 60) }
            }
            for writer in ["a", "b"] {
                group.addTask {
                    let client = try LineClient(path: socket)
                    for i in 0..<150 {
                        let reply = try client.request(#"{"op":"update","key":"k","labels":{"n":"\#(writer)\#(i)"}}"#)
                        #expect(reply["ok"] == .bool(true), "\(reply)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let queue = try DatabaseQueue(path: home.db)
        let (rows, stored) = try queue.read { db in
            (try Row.fetchAll(db, sql: "SELECT before, after FROM history WHERE key = 'k.example.com' ORDER BY revision"),
             try String.fetchOne(db, sql: "SELECT record FROM routes WHERE key = 'k.example.com'"))
        }
        try #require(rows.count == 301, "one add and 300 updates: \(rows.count)")
        for i in 1..<rows.count {
            let before: String? = rows[i]["before"]
            let after: String? = rows[i - 1]["after"]
            #expect(before == after, "change \(i) records a before that is not what change \(i - 1) left")
        }
        #expect(stored == rows.last?["after"])
    }

    @Test func historyAndHeldNamesWithoutAStateFileAreRefusedAlikeSayingHowToGetThem() throws {
        let daemon = try RouterdProcess(["--log-level", "error"])
        defer { _ = try? daemon.stop() }
        let r = try ChildProcess(productsDirectory + "/routerctl", ["history"], environment: ["ROUTER_SOCKET": daemon.socket],
                                 directory: daemon.directory).wait(timeout: 30)
        #expect(r.status == 2 && r.stderr.contains("--db"), "\(r)")
        let held = try ChildProcess(productsDirectory + "/routerctl", ["list", "--held"], environment: ["ROUTER_SOCKET": daemon.socket],
                                    directory: daemon.directory).wait(timeout: 30)
        #expect(held.status == 2 && held.stderr.contains("--db FILE --hold-released"), "\(held)")
    }

    @Test func anEmptyHistorySaysSo() throws {
        let home = Home()
        let daemon = try home.start()
        defer { _ = try? daemon.stop() }
        let empty = try home.routerctl(daemon, ["history"])
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr == "no changes recorded\n", "\(empty)")
        let json = try home.routerctl(daemon, ["history", "-o", "json"])
        #expect(json.status == 0 && json.stdout.isEmpty && json.stderr.isEmpty, "-o json prints nothing at all: \(json)")
    }

    @Test func oldHistoryIsPrunedByAgeAndByRows() throws {
        let home = Home()
        let first = try home.start(["--history-rows", "1000", "--history-retention", "2s"])
        let lines = (0..<1500).map { "add n\($0) --tunnel t" }.joined(separator: "\n") + "\n"
        #expect(try home.routerctl(first, ["batch", "-q"], stdin: lines).status == 0)
        try first.stop()
        let second = try home.start(["--history-rows", "1000", "--history-retention", "1h"])
        #expect(eventually { (try? home.rows("SELECT count(*) FROM history")) == 1000 })
        try second.stop()
        usleep(2_100_000)
        let third = try home.start(["--history-rows", "1000", "--history-retention", "2s"])
        defer { _ = try? third.stop() }
        #expect(eventually { (try? home.rows("SELECT count(*) FROM history")) == 0 })
        #expect(try home.routerctl(third, ["list", "-o", "name"]).stdout.split(separator: "\n").count == 1500, "routes stay")
    }

    @Test func aSecondRouterdOnTheSameFileIsRefusedNamingTheHolder() throws {
        let home = Home()
        let first = try home.start()
        defer { _ = try? first.stop() }
        let second = try ChildProcess(productsDirectory + "/routerd", ["--socket", home.directory + "/other.sock", "--db", home.db],
                                      directory: home.directory).wait(timeout: 20)
        #expect(second.status == 1 && second.stderr.contains("in use by another routerd (pid \(first.process.pid))"), "\(second.stderr)")
    }

    @Test func anUpdateIsCommittedToTheFileWithItsHistory() throws {
        let home = Home()
        let first = try home.start()
        #expect(try home.routerctl(first, ["add", "shop", "--tunnel", "t1", "--target", "10.0.0.1:80", "--ttl", "1h", "-q"]).status == 0)
        #expect(try home.routerctl(first, ["set", "shop", "--target", "10.0.0.2:80", "--label", "env=prod", "-q"]).status == 0)
        try first.stop()
        let second = try home.start()
        defer { _ = try? second.stop() }
        let route = try home.routerctl(second, ["lookup", "shop", "-o", "json"]).stdout
        #expect(route.contains(#""target":"10.0.0.2:80""#) && route.contains(#""env":"prod""#) && route.contains(#""tunnel":"t1""#), "\(route)")
        let history = try home.routerctl(second, ["history", "shop", "-o", "json"]).stdout
        #expect(history.split(separator: "\n").first?.contains(#""type":"update""#) == true, "\(history)")
    }

    @Test func aStateFileNamedThroughALinkIsLockedAllTheSame() throws {
        let home = Home()
        let first = try home.start()
        defer { _ = try? first.stop() }
        try FileManager.default.createSymbolicLink(atPath: home.directory + "/symlink.db", withDestinationPath: home.db)
        try FileManager.default.linkItem(atPath: home.db, toPath: home.directory + "/hardlink.db")
        let viaSymlink = try home.refusedStart(home.directory + "/symlink.db")
        #expect(viaSymlink.status == 1 && viaSymlink.stderr.contains("in use by another routerd (pid \(first.process.pid))"), "\(viaSymlink.stderr)")
        let viaHardLink = try home.refusedStart(home.directory + "/hardlink.db")
        #expect(viaHardLink.status == 1 && viaHardLink.stderr.contains("in use by another routerd"), "\(viaHardLink.stderr)")
        #expect(try home.routerctl(first, ["add", "still-mine", "--tunnel", "t"]).status == 0, "the first one goes on")
    }

    @Test func aDamagedFileIsRefusedAndLeftAsItWas() throws {
        let home = Home()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: home.db))
        let before = try home.files()
        let r = try home.refusedStart()
        #expect(r.status == 1 && r.stderr.contains(home.db) && r.stderr.contains("move it aside"), "\(r.stderr)")
        let after = try home.files()
        #expect(after == before, "never written to, nothing left beside it: \(before.mapValues(\.count)) → \(after.mapValues(\.count))")
    }

    @Test func aStateFileWithADamagedPageIsRefusedAndLeftAsItWas() throws {
        let home = Home()
        let daemon = try home.start()
        var batch = ""
        for i in 0..<3000 { batch += "add r\(i) --tunnel t\(i) --label team=\(i)\n" }
        #expect(try home.routerctl(daemon, ["batch"], stdin: batch).status == 0)
        try daemon.stop()
        // Garbage over a page in the middle of the file (SQLite's header and schema intact).
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: home.db))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 16384))
        try handle.close()
        let before = try home.files()
        let r = try home.refusedStart()
        #expect(r.status == 1 && r.stderr.contains(home.db) && r.stderr.contains("move it aside"), "\(r.stderr)")
        let after = try home.files()
        #expect(after == before, "never written to, nothing left beside it: \(before.mapValues(\.count)) → \(after.mapValues(\.count))")
    }

    @Test func anotherProgramsSQLiteFileIsRefusedAndLeftAsItWas() throws {
        let home = Home()
        let queue = try DatabaseQueue(path: home.db)
        try queue.write { try $0.execute(sql: "CREATE TABLE x (a); INSERT INTO x VALUES (1)") }
        try queue.close()
        let before = try home.files()
        let r = try home.refusedStart()
        #expect(r.status == 1 && r.stderr.contains("not a routerd state file (its tables: x)"), "\(r.stderr)")
        let after = try home.files()
        #expect(after == before, "not taken over: \(before.mapValues(\.count)) → \(after.mapValues(\.count))")

        let other = Home()
        let marked = try DatabaseQueue(path: other.db)
        try marked.writeWithoutTransaction { try $0.execute(sql: "PRAGMA application_id = 1234; CREATE TABLE meta (a)") }
        try marked.close()
        let also = try other.refusedStart()
        #expect(also.status == 1 && also.stderr.contains("another application (application_id 0x4d2)"), "\(also.stderr)")
    }

    @Test func routerdMarksItsFilesWithItsApplicationID() throws {
        let home = Home()
        try home.start().stop()
        #expect(try home.rows("PRAGMA application_id") == 0x5254_5244)
        // A file of a routerd from before the mark gets it.
        let old = Home()
        let fixture = try #require(Bundle.module.path(forResource: "state-v1", ofType: "db", inDirectory: "Fixtures"))
        try FileManager.default.copyItem(atPath: fixture, toPath: old.db)
        #expect(try old.rows("PRAGMA application_id") == 0)
        try old.start().stop()
        #expect(try old.rows("PRAGMA application_id") == 0x5254_5244)
    }

    @Test func aFileOfANewerSchemaIsRefused() throws {
        let home = Home()
        try home.start().stop()
        let queue = try DatabaseQueue(path: home.db)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try queue.close()
        let before = try home.files()
        let r = try home.refusedStart()
        #expect(r.status == 1 && r.stderr.contains("newer routerd (schema 99"), "\(r.stderr)")
        let after = try home.files()
        #expect(after == before, "never written to, nothing left beside it: \(before.mapValues(\.count)) → \(after.mapValues(\.count))")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small file system needs root"))
    func aFullDiskIsSaidToBeFullNotDamaged() throws {
        let home = Home()
        let mount = home.directory + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try ChildProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], directory: home.directory).wait()
        try #require(mounted.status == 0, "mount: \(mounted.stderr)")
        defer { _ = try? ChildProcess("/bin/umount", ["-l", mount], directory: home.directory).wait() }
        // A state file made while there was room, then the disk filled up.
        let db = mount + "/state.db"
        let first = try RouterdProcess(["--db", db, "--domain", "example.com", "--log-level", "warning"])
        try first.stop()
        let filler = try ChildProcess("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=64k"], directory: home.directory).wait()
        #expect(filler.stderr.contains("No space left"), "\(filler.stderr)")
        let existing = try home.refusedStart(db)
        #expect(existing.status == 1 && existing.stderr.contains("the disk holding the state file \(db) is full"), "\(existing.stderr)")
        #expect(!existing.stderr.contains("is damaged") && !existing.stderr.contains("move it aside"), "\(existing.stderr)")
        let fresh = try home.refusedStart(mount + "/new.db")
        #expect(fresh.status == 1 && fresh.stderr.contains("is full"), "\(fresh.stderr)")
        #expect(!fresh.stderr.contains("move it aside"), "\(fresh.stderr)")
    }

    @Test func aRouteRecordRouterdDidNotWriteIsRefusedEvenPastTheFirstChunkRead() throws {
        let home = Home()
        try home.start().stop()
        // More routes than one chunk of the start-up's read, the last one not routerd's.
        let queue = try DatabaseQueue(path: home.db)
        try queue.write { db in
            for i in 0..<20_000 {
                try db.execute(sql: "INSERT INTO routes (key, record) VALUES (?, ?)", arguments: [
                    "k\(i).example.com",
                    #"{"key":"k\#(i).example.com","kind":"host","tunnel":"t1","owner":"root","created":1,"updated":1,"create_rev":1,"mod_rev":1}"#,
                ])
            }
            try db.execute(sql: "INSERT INTO routes (key, record) VALUES ('zz.example.com', '{\"key\": 12}')")
        }
        try queue.close()
        let r = try ChildProcess(productsDirectory + "/routerd", ["--socket", home.directory + "/r.sock", "--db", home.db],
                                 directory: home.directory).wait(timeout: 60)
        #expect(r.status == 1 && r.stderr.contains("holds something routerd did not write there"), "\(r.stderr)")
    }

    @Test func theCommittedVersion1FixtureOpens() throws {
        let home = Home()
        let fixture = try #require(Bundle.module.path(forResource: "state-v1", ofType: "db", inDirectory: "Fixtures"))
        try FileManager.default.copyItem(atPath: fixture, toPath: home.db)
        let daemon = try home.start()
        defer { _ = try? daemon.stop() }
        let names = try home.routerctl(daemon, ["list", "-o", "name"]).stdout
        #expect(names == "*.apps.example.com\nshop.example.com\ntcp:40001\n", "\(names)")
        let history = try home.routerctl(daemon, ["history", "-o", "json"]).stdout.split(separator: "\n")
        #expect(history.count == 5 && history[0].contains(#""type":"delete""#), "\(history)")
        #expect(try home.rows("PRAGMA user_version") == 2, "brought up to date")
    }

    @Test func dbAndStoreTogetherAreAUsageError() throws {
        let r = try ChildProcess(productsDirectory + "/routerd", ["--db", "/tmp/x.db", "--store", "redis://127.0.0.1:6379"],
                                 directory: "/tmp").wait(timeout: 20)
        #expect(r.status == 64 && r.stderr.contains("--db and --store"), "\(r.stderr)")
    }
}

@Suite("README: keeping routes across restarts")
struct StateFileReadmeTests {
    @Test func theReadmeExampleRunsAsWritten() throws {
        let script = try readmeExample(under: "## Keeping routes across restarts")
        #expect(script.contains("--db state.db"), "the section's first block is the example")
        let dir = makeTemporaryDirectory("readme-db-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ChildProcess("/bin/bash", ["-c", "set -e\ncd \(dir)\n" + script],
                                   environment: ["PATH": path, "ROUTER_SOCKET": dir + "/r.sock", "NO_COLOR": "1"],
                                   directory: dir).wait(timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(run.stdout)")
        #expect(lines[1].hasPrefix("shop.localhost  t1"), "the route is back: \(run.stdout)")
        #expect(lines[3].contains(" add ") && lines[3].contains("shop.localhost"), "and its history: \(run.stdout)")
    }
}

@Suite("Names held for their last owners (--hold-released)")
struct HeldNameTests {
    /// A routerd with --db and --hold-released, its HTTP API for alice and bob (users) and ops
    /// (an admin), and routerctl as each of them.
    final class Setup {
        let home = StateFileTests.Home()
        var port = 0
        let tokens: String
        var daemon: RouterdProcess!
        let token = ["alice": "alice-token-0123456789ab", "bob": "bob-token-0123456789abcd", "ops": "ops-token-0123456789abcd"]

        init(hold: String) throws {
            tokens = home.directory + "/tokens"
            try "alice \(token["alice"]!)\nbob \(token["bob"]!)\nops \(token["ops"]!) admin\n".write(toFile: tokens, atomically: false, encoding: .utf8)
            chmod(tokens, 0o600)
            try start(hold: hold)
        }

        func start(hold: String) throws {
            daemon = try home.start(["--hold-released", hold, "--http", "127.0.0.1:0", "--http-tokens", tokens, "--log-level", "notice"])
            port = try daemon.httpPort()
        }

        func run(_ who: String, _ line: String) throws -> Finished {
            try home.routerctl(daemon, line.split(separator: " ").map(String.init),
                               environment: ["ROUTER_URL": "http://127.0.0.1:\(port)", "ROUTER_TOKEN": token[who]!])
        }
    }

    @Test func theOwnerReclaimsALapsedNameAndAnotherGetsConflictNamingTheEnd() throws {
        let s = try Setup(hold: "1h")
        defer { _ = try? s.daemon.stop() }
        #expect(try s.run("alice", "add shop --tunnel ta --ttl 1s").status == 0)
        #expect(eventually { (try? s.run("ops", "lookup shop").status) == 1 }, "the route lapses")
        // The moment a lookup misses, the name is held, for a list as for a lookup (before the
        // sweep removes the route, and after).
        #expect(try s.run("alice", "list --held -o name").stdout == "shop.example.com\n", "held as soon as it lapses")
        let taken = try s.run("bob", "add shop --tunnel tb")
        #expect(taken.status == 3 && taken.stderr.contains("held for its last owner until") && !taken.stderr.contains("alice"), "\(taken)")
        let json = try s.run("bob", "add shop --tunnel tb -o json")
        #expect(json.stderr.contains(#""relation":"held""#) && json.stderr.contains(#""held_until":""#), "\(json.stderr)")
        let lookup = try s.run("alice", "lookup shop")
        #expect(lookup.status == 1 && lookup.stderr.contains("held for its last owner (alice)"), "\(lookup)")
        let byHost = try s.run("alice", "lookup shop.example.com:443")
        #expect(byHost.status == 1 && !byHost.stderr.contains("held"), "a lookup by Host misses: \(byHost)")
        #expect(try s.run("alice", "list --held -o name").stdout == "shop.example.com\n")
        #expect(try s.run("bob", "list --held -o name").stdout == "", "bob sees his own holds only")
        #expect(try s.run("ops", "list --held").stdout.contains("alice"))
        #expect(try s.run("alice", "add shop --tunnel ta").status == 0, "the owner gets it back with a plain add")
        #expect(try s.run("alice", "list --held -o name").stdout == "", "and the hold is gone")
    }

    @Test func aHoldEndsAndSurvivesARestartUntilThen() throws {
        let s = try Setup(hold: "3s")
        #expect(try s.run("alice", "add shop --tunnel ta --ttl 1s").status == 0)
        #expect(eventually { (try? s.run("alice", "list --held -o name").stdout) == "shop.example.com\n" })
        try s.daemon.stop()
        try s.start(hold: "3s")
        defer { _ = try? s.daemon.stop() }
        #expect(try s.run("bob", "add shop --tunnel tb").status == 3, "still held after the restart")
        #expect(eventually(timeout: 10) { (try? s.run("bob", "add shop --tunnel tb").status) == 0 }, "free once the hold ends")
    }

    @Test func aDeleteHoldsNothingAndAnAdminMayTakeAHeldName() throws {
        let s = try Setup(hold: "1h")
        defer { _ = try? s.daemon.stop() }
        #expect(try s.run("alice", "add gone --tunnel ta").status == 0)
        #expect(try s.run("alice", "delete gone").status == 0)
        #expect(try s.run("bob", "add gone --tunnel tb").status == 0, "a delete keeps nothing")
        #expect(try s.run("alice", "add shop --tunnel ta --ttl 1s").status == 0)
        #expect(eventually { (try? s.run("alice", "list --held -o name").stdout) == "shop.example.com\n" })
        #expect(try s.run("ops", "add shop --tunnel to").status == 0, "an admin may take it")
    }
}
