import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// Several routerd on one etcd serve one table: the Redis store's tests, with real etcd and
/// routerd processes on temporary ports and sockets.
@Suite("Shared store on etcd", .serialized, .enabled(if: etcdInstalled, "needs etcd (scripts/install-packages.sh test)"))
struct EtcdSharedTableTests {
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
        store.wipe()
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
