import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// Several routerd on one etcd serve one table: the Redis store's tests, with real etcd and
/// routerd processes on temporary ports and sockets.
@Suite("Shared store on etcd", .serialized, .enabled(if: etcdInstalled, "needs etcd (scripts/install-packages.sh test)"))
struct EtcdSharedTableTests {
    @Test func aRouteAddedOnOneDaemonIsServedByTheOther() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let a = try store.connect(0)
        let b = try store.connect(1)
        #expect(a.greeting["store"]?["kind"] == .string("etcd"))
        #expect(a.greeting["store"]?["id"] == b.greeting["store"]?["id"])
        #expect(a.greeting["instance"] == b.greeting["instance"])
        let added = try a.request(#"{"id":1,"op":"add","key":"foo","tunnel":"t1","target":"127.0.0.1:8080"}"#)
        #expect(added["ok"] == .bool(true))
        #expect(try eventually { try b.request(#"{"id":2,"op":"lookup","key":"foo"}"#)["ok"] == .bool(true) })
        let lookup = try b.request(#"{"id":3,"op":"lookup","host":"FOO.example.com:443"}"#)
        #expect(lookup["result"]?["route"]?["target"] == .string("127.0.0.1:8080"))
        let refused = try b.request(#"{"id":4,"op":"add","key":"foo","tunnel":"t2"}"#)
        #expect(refused["error"]?["code"] == .string("conflict"))
        let updated = try b.request(#"{"id":5,"op":"update","key":"foo","target":"127.0.0.1:9090","labels":{"env":"prod"}}"#)
        #expect(updated["ok"] == .bool(true) && updated["result"]?["route"]?["tunnel"] == .string("t1"), "\(updated)")
        #expect(try eventually {
            try a.request(#"{"id":6,"op":"lookup","key":"foo"}"#)["result"]?["route"]?["target"] == .string("127.0.0.1:9090")
        })
    }

    @Test func aDaemonReadsItsOwnWrites() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let b = try store.connect(1)
        for i in 0..<50 {
            #expect(try b.request(#"{"id":1,"op":"add","key":"own\#(i)","tunnel":"t\#(i)"}"#)["ok"] == .bool(true))
            #expect(try b.request(#"{"id":2,"op":"lookup","key":"own\#(i)"}"#)["ok"] == .bool(true))
        }
    }

    @Test func aKeyChangedSeveralTimesInOneCommitEndsAsItsLastChange() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let a = try store.connect(0)
        // One burst: the writer commits these together, and the checkpoint writes each key's
        // last state.
        try a.send([#"{"op":"add","key":"x","tunnel":"t"}"#, #"{"op":"delete","key":"x"}"#, #"{"op":"add","key":"y","tunnel":"t"}"#,
                    #"{"op":"delete","key":"y"}"#, #"{"op":"add","key":"y","tunnel":"u"}"#].joined(separator: "\n"))
        for _ in 0..<5 { let r = try a.readJSON(); #expect(r["ok"] == .bool(true), "\(r)") }
        #expect(eventually { store.keys("t/routes/") == ["t/routes/y.example.com"] })
        #expect(try eventually { try store.connect(1).routes() == ["y.example.com": "u"] })
        #expect(store.etcd.etcdctl(["get", "--print-value-only", "t/applied"]).stdout.hasPrefix("5"))
    }

    @Test(arguments: [2, 3]) func racingDaemonsGiveEachNameExactlyOneWinner(daemons: Int) throws {
        let store = try EtcdSharedStore(daemons: daemons)
        let watchers = try (0..<daemons).map { i -> LineClient in
            let w = try store.connect(i)
            _ = try w.startWatch()
            return w
        }
        // 1,000 clients over the daemons, ten for each of 100 names, each with its own tunnel.
        let clients = try (0..<1000).map { try store.connect($0 % daemons) }
        for (i, client) in clients.enumerated() {
            try client.send(#"{"id":\#(i),"op":"add","key":"name\#(i % 100)","tunnel":"c\#(i)"}"#)
        }
        var winners: [String: [String]] = [:]
        for (i, client) in clients.enumerated() {
            let reply = try client.readJSON(timeout: 60)
            if reply["ok"] == .bool(true) {
                winners["name\(i % 100).example.com", default: []].append("c\(i)")
            } else {
                #expect(reply["error"]?["code"] == .string("conflict"), "\(reply)")
            }
        }
        #expect(winners.count == 100)
        #expect(winners.values.allSatisfy { $0.count == 1 })
        let expected = winners.mapValues { $0[0] }
        let lists = try (0..<daemons).map { i in try eventually { try store.connect(i).routes() == expected } }
        #expect(lists.allSatisfy { $0 })
        let sequences = try watchers.map { try $0.events(100) }
        #expect(sequences.allSatisfy { $0 == sequences[0] })
        #expect(sequences[0].map { $0.split(separator: " ").last.map(String.init) } == (1...100).map { String($0) })
    }

    @Test func aWatchResumesOnAnotherDaemon() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let a = try store.connect(0)
        for i in 1...5 { _ = try a.request(#"{"id":\#(i),"op":"add","key":"r\#(i)","tunnel":"t"}"#) }
        let instance = a.greeting["instance"]!.stringValue!
        let b = try store.connect(1)
        #expect(try eventually { try b.routes().count == 5 })
        let replayed = try b.startWatch(from: 3, instance: instance)
        #expect(replayed.map(LineClient.describe) == ["add r3.example.com 3", "add r4.example.com 4", "add r5.example.com 5"])
        // A daemon started later loads the same history from the log.
        let c = try store.connect(try store.join())
        #expect(try c.startWatch(from: 2, instance: instance).count == 4)
    }

    @Test func severalSweepersExpireEachRouteOnce() throws {
        let store = try EtcdSharedStore(daemons: 3)
        let watcher = try store.connect(0)
        _ = try watcher.startWatch()
        let a = try store.connect(1)
        for i in 0..<20 {
            _ = try a.request(#"{"id":\#(i),"op":"add","key":"short\#(i)","tunnel":"t","ttl":1}"#)
        }
        let events = try watcher.events(40)
        #expect(events.filter { $0.hasPrefix("expire") }.count == 20)
        #expect(Set(events.filter { $0.hasPrefix("expire") }.map { $0.split(separator: " ")[1] }).count == 20)
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 1.5) }
        for i in 0..<3 { #expect(try store.connect(i).routes().isEmpty) }
    }

    @Test func aSessionResumesThroughAnotherDaemon() throws {
        let store = try EtcdSharedStore(daemons: 2, arguments: ["--grace", "3s"])
        let a = try store.connect(0)
        #expect(try a.request(#"{"id":1,"op":"add","key":"mine","tunnel":"t","session":true}"#)["ok"] == .bool(true))
        let token = try #require(a.greeting["session"]?["resume_token"]?.stringValue)
        let watcher = try store.connect(1)
        #expect(try eventually { try watcher.routes().count == 1 })
        _ = try watcher.startWatch()
        a.close()
        let b = try store.connect(1)
        var reply: JSONValue = .null
        #expect(try eventually {
            reply = try b.request(#"{"id":"h","op":"hello","resume":"\#(token)"}"#)
            return reply["ok"] == .bool(true)
        }, "\(reply)")
        #expect(reply["result"]?["resumed"] == .number("1"))
        let moved = try watcher.events(1)
        #expect(moved.first?.hasPrefix("update mine.example.com") == true, "\(moved)")
        // A dies: the route is B's session's now, and stays past A's lease and the grace.
        store.daemons[0].process.signal(SIGKILL)
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 9) }
        #expect(try b.routes().keys.sorted() == ["mine.example.com"])
        let again = try store.connect(1).request(#"{"id":"h","op":"hello","resume":"\#(token)"}"#)
        #expect(again["error"]?["code"] == .string("not_found"))
    }

    @Test func aKilledDaemonsSessionRoutesGoAfterItsLeaseAndTheGrace() throws {
        let store = try EtcdSharedStore(daemons: 2, arguments: ["--grace", "1s"])
        let a = try store.connect(0)
        #expect(try a.request(#"{"id":1,"op":"add","key":"held","tunnel":"t","session":true}"#)["ok"] == .bool(true))
        #expect(try a.request(#"{"id":2,"op":"add","key":"stays","tunnel":"t"}"#)["ok"] == .bool(true))
        let b = try store.connect(1)
        #expect(try eventually { try b.routes().count == 2 })
        _ = try b.startWatch()
        store.daemons[0].process.signal(SIGKILL)
        let killed = Date()
        let events = try b.events(1, timeout: 20)
        #expect(events.first?.hasPrefix("expire held.example.com") == true, "\(events)")
        // etcd dropped A's member key when its lease (5 s) ran out; then the grace (1 s).
        #expect(Date().timeIntervalSince(killed) > 4)
        #expect(try b.routes().keys.sorted() == ["stays.example.com"])
    }

    @Test func aSessionRouteAddedThroughADaemonThatJustJoinedStaysWhileItsClientIsConnected() throws {
        let store = try EtcdSharedStore(daemons: 1, arguments: ["--grace", "1s"])
        let watcher = try store.connect(0)
        _ = try watcher.startWatch()
        // B joins and takes a session route at once, before A has read B's member key.
        let b = try store.connect(try store.join())
        #expect(try b.request(#"{"id":1,"op":"add","key":"live","tunnel":"t","session":true}"#)["ok"] == .bool(true))
        let added = try watcher.events(1)
        #expect(added.first?.hasPrefix("add live.example.com") == true, "\(added)")
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 3) }
        #expect(try b.routes().keys.sorted() == ["live.example.com"])
        // And it goes once B's client does, after the grace.
        b.close()
        let gone = try watcher.events(1, timeout: 20)
        #expect(gone.first?.hasPrefix("expire live.example.com") == true, "\(gone)")
    }

    @Test func thousandsOfAddsCommitInOrderAndTheCheckpointWritesTheRoutesKeys() throws {
        let store = try EtcdSharedStore(daemons: 2, arguments: ["--store-log-length", "1000"])
        let a = try store.connect(0)
        let watcher = try store.connect(1)
        _ = try watcher.startWatch()
        try a.send((0..<5000).map { #"{"op":"add","key":"n\#($0)","tunnel":"t"}"# }.joined(separator: "\n"))
        for _ in 0..<5000 { #expect(try a.readJSON(timeout: 60)["ok"] == .bool(true)) }
        let seen = try watcher.events(5000, timeout: 60)
        #expect(seen.map { $0.split(separator: " ").last.map(String.init) } == (1...5000).map { String($0) })
        #expect(seen.first == "add n0.example.com 1" && seen.last == "add n4999.example.com 5000")
        // Off the write path, the routes keys catch up, and the log is trimmed behind them.
        #expect(eventually(timeout: 60) { store.keys("t/routes/").count == 5000 })
        #expect(eventually(timeout: 30) { store.keys("t/log/").count < 1100 })
        #expect(store.etcd.etcdctl(["get", "--print-value-only", "t/applied"]).stdout.hasPrefix("5000"))
        // A daemon started now loads the routes keys and the log after the checkpoint.
        let c = try store.connect(try store.join())
        #expect(try c.routes().count == 5000)
    }

    @Test func aBatchLargerThanOneEtcdRequestCommitsWhole() throws {
        let store = try EtcdSharedStore(daemons: 2, arguments: ["--max-line", "8388608"])
        let a = try store.connect(0)
        // 4,000 operations with long labels: about 3 MB of events, twice etcd's request limit.
        let label = String(repeating: "x", count: 250)
        let operations = (0..<4000).map { #"{"op":"add","key":"big\#($0)","tunnel":"t","labels":{"a":"\#(label)","b":"\#(label)"}}"# }
        try a.send(#"{"id":1,"op":"batch","atomic":true,"ops":[\#(operations.joined(separator: ","))]}"#)
        let reply = try a.readJSON(timeout: 60)
        #expect(reply["ok"] == .bool(true), "\(String(describing: reply["error"]))")
        let b = try store.connect(1)
        #expect(try eventually(timeout: 30) { try b.routes().count == 4000 })
        #expect(!store.keys("t/parts/").isEmpty)
        let c = try store.connect(try store.join())
        #expect(try c.routes().count == 4000)
    }

    /// Cuts a daemon off: it is stopped (SIGSTOP) and the etcd member restarted under it, so
    /// that it finds its watch broken when it goes on and must watch again from where it was.
    func cutOff(_ store: EtcdSharedStore, daemon: Int) throws {
        store.daemons[daemon].process.signal(SIGSTOP)
        store.etcd.kill(0)
        try store.etcd.restart(0)
        try store.etcd.waitUntilHealthy()
    }

    /// Compacts etcd's history up to now.
    func compact(_ store: EtcdSharedStore) {
        let now = store.etcd.etcdctl(["get", "t/head", "-w", "json"]).stdout
        let revision = (try? JSONParser.parse(now))?["header"]?["revision"].flatMap { $0.integerValue }
        #expect(store.etcd.etcdctl(["compact", String(revision ?? 1)]).status == 0)
    }

    @Test func aDaemonBehindTheTrimmedLogLoadsTheTableAgain() throws {
        let store = try EtcdSharedStore(daemons: 2, arguments: ["--store-log-length", "1000"])
        let b = try store.connect(1)
        _ = try b.startWatch()
        try cutOff(store, daemon: 1)
        defer { store.daemons[1].process.signal(SIGCONT) }
        let a = try store.connect(0)
        #expect(try eventually { try a.request(#"{"id":1,"op":"add","key":"first","tunnel":"t"}"#)["ok"] == .bool(true) })
        for chunk in 0..<5 {
            try a.send((0..<1000).map { #"{"op":"add","key":"n\#(chunk)-\#($0)"}"# }.joined(separator: "\n"))
            for _ in 0..<1000 { #expect(try a.readJSON(timeout: 60)["ok"] == .bool(true)) }
        }
        // The checkpoint trims the log behind itself, and etcd's history is compacted: what B
        // missed is nowhere but in the routes keys.
        #expect(eventually(timeout: 60) { store.keys("t/log/").count < 1100 })
        compact(store)
        store.daemons[1].process.signal(SIGCONT)
        var end: JSONValue = .null
        repeat { end = try b.readJSON(timeout: 30) } while end["event"] != nil
        #expect(end["error"]?["code"] == .string("compacted"), "\(end)")
        #expect(end["error"]?["details"]?["reason"] == .string("store_reset"))
        #expect(try eventually(timeout: 30) { try store.connect(1).routes().count == 5_001 })
    }

    @Test func aDaemonCutOffWhileEtcdCompactedCatchesUpFromTheLog() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let b = try store.connect(1)
        _ = try b.startWatch()
        try cutOff(store, daemon: 1)
        defer { store.daemons[1].process.signal(SIGCONT) }
        let a = try store.connect(0)
        for i in 0..<20 {
            #expect(try eventually { try a.request(#"{"id":\#(i),"op":"add","key":"c\#(i)","tunnel":"t"}"#)["ok"] == .bool(true) })
        }
        compact(store)
        store.daemons[1].process.signal(SIGCONT)
        // etcd's history is gone, the store's log is not: the watch goes on without a reset.
        let seen = try b.events(20, timeout: 30)
        #expect(seen.map { $0.split(separator: " ").last.map(String.init) } == (1...20).map { String($0) })
    }

    @Test func deletingThePrefixEndsWatchesWithStoreResetAndEmptiesTables() throws {
        let store = try EtcdSharedStore(daemons: 2)
        let a = try store.connect(0)
        _ = try a.request(#"{"id":1,"op":"add","key":"gone","tunnel":"t"}"#)
        let watcher = try store.connect(1)
        #expect(try eventually { try watcher.routes().count == 1 })
        _ = try watcher.startWatch()
        #expect(store.etcd.etcdctl(["del", "--prefix", "t/"]).status == 0)
        let end = try watcher.readJSON(timeout: 15)
        #expect(end["error"]?["code"] == .string("compacted"), "\(end)")
        #expect(end["error"]?["details"]?["reason"] == .string("store_reset"))
        for i in 0..<2 { #expect(try eventually { try store.connect(i).routes().isEmpty }) }
        #expect(try eventually {
            try store.connect(0).request(#"{"id":2,"op":"add","key":"fresh","tunnel":"t"}"#)["ok"] == .bool(true)
        })
        #expect(try store.connect(1).greeting["instance"] != a.greeting["instance"])
    }
}
