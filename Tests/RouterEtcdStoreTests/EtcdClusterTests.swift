import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// routerd on a three-member etcd cluster: a member lost (the leader included), a member
/// paused, quorum lost and regained.
@Suite("etcd store on a three-member cluster", .serialized, .enabled(if: etcdInstalled, "needs etcd (scripts/install-packages.sh test)"))
struct EtcdClusterTests {
    /// Adds `key` through `client` once; true when acknowledged.
    func add(_ client: LineClient, _ key: String) throws -> Bool {
        try client.request(#"{"id":1,"op":"add","key":"\#(key)","tunnel":"t"}"#)["ok"] == .bool(true)
    }

    @Test(arguments: ["leader", "follower in use"])
    func losingAMemberLosesNoAcknowledgedWriteAndWritesGoOn(lost: String) throws {
        let store = try EtcdSharedStore(daemons: 2, members: 3)
        let a = try store.connect(0)
        let b = try store.connect(1)
        var acknowledged: [String] = []
        var refused = 0
        for i in 0..<50 where try add(a, "before\(i)") { acknowledged.append("before\(i).example.com") }
        #expect(acknowledged.count == 50)
        let leader = try #require(store.etcd.leader())
        // routerd talks to the first member until it fails it: lose the leader, or that member.
        let victim = lost == "leader" ? leader : (leader == 0 ? 1 : 0)
        store.etcd.kill(victim)
        let killed = Date()
        var resumed: Double?
        for i in 0..<150 {
            if try add(a, "after\(i)") {
                acknowledged.append("after\(i).example.com")
                if resumed == nil { resumed = Date().timeIntervalSince(killed) }
            } else {
                refused += 1
            }
        }
        print("etcd cluster, \(lost) killed: first write acknowledged \(resumed.map { String(format: "%.3f s", $0) } ?? "never") after the kill; \(refused) of 150 writes refused")
        #expect(resumed != nil && resumed! < 10)
        #expect(refused < 10)
        // Every acknowledged write is on both daemons.
        let keys = Set(acknowledged)
        #expect(try eventually(timeout: 20) { keys.isSubset(of: Set(try b.routes().keys)) })
        #expect(keys.isSubset(of: Set(try a.routes().keys)))
        // And in etcd, once the member is back.
        try store.etcd.restart(victim)
        try store.etcd.waitUntilHealthy()
        let c = try store.connect(try store.join())
        #expect(keys.isSubset(of: Set(try c.routes().keys)))
    }

    @Test func aPausedMemberDelaysAWriteOnlyUntilTheClientMovesOn() throws {
        let store = try EtcdSharedStore(daemons: 1, members: 3)
        let a = try store.connect(0)
        #expect(try add(a, "first"))
        store.etcd.pause(0)
        defer { store.etcd.resume(0) }
        let started = Date()
        #expect(try eventually(timeout: 10) { try add(a, "second") })
        let delayed = Date().timeIntervalSince(started)
        print("etcd cluster, member in use paused: a write acknowledged after \(String(format: "%.3f s", delayed))")
        #expect(delayed < 8)
        #expect(try a.request(#"{"id":2,"op":"lookup","key":"first"}"#)["ok"] == .bool(true))
        for i in 0..<20 { #expect(try add(a, "more\(i)")) }
    }

    @Test func losingQuorumFailsWritesAndKeepsReadsThenTheDaemonCatchesUp() throws {
        let store = try EtcdSharedStore(daemons: 2, members: 3)
        let a = try store.connect(0)
        let b = try store.connect(1)
        #expect(try add(a, "kept"))
        #expect(try eventually { try b.routes().count == 1 })
        store.etcd.kill(1)
        store.etcd.kill(2)
        let started = Date()
        let refused = try a.request(#"{"id":2,"op":"add","key":"lost","tunnel":"t"}"#)
        #expect(refused["error"]?["code"] == .string("unavailable"), "\(refused)")
        #expect(refused["error"]?["message"]?.stringValue?.contains("look it up") == true, "\(refused)")
        #expect(Date().timeIntervalSince(started) < 8)
        // Known to be away: the next writes fail at once; lookups go on from the replica.
        #expect(try eventually(timeout: 10) {
            let t = Date()
            let r = try a.request(#"{"id":3,"op":"add","key":"lost","tunnel":"t"}"#)
            return r["error"]?["code"] == .string("unavailable") && Date().timeIntervalSince(t) < 0.5
        })
        #expect(try a.request(#"{"id":4,"op":"lookup","key":"kept"}"#)["ok"] == .bool(true))
        #expect(try b.request(#"{"id":5,"op":"lookup","key":"kept"}"#)["ok"] == .bool(true))
        let stats = try a.request(#"{"id":6,"op":"stats"}"#)
        #expect(stats["result"]?["store"]?["available"] == .bool(false))
        // Quorum back: writes go on, and B sees them.
        try store.etcd.restart(1)
        try store.etcd.restart(2)
        try store.etcd.waitUntilHealthy()
        #expect(try eventually(timeout: 20) { try add(a, "again") })
        // A change refused for want of an answer may still have been made (the member kept the
        // proposal and the returning quorum committed it: the refusal says to look it up), so
        // `lost` may be there; whatever is, both daemons show the same.
        #expect(try eventually(timeout: 20) {
            let seen = Set(try b.routes().keys)
            let other = Set(try a.routes().keys)
            return seen.isSuperset(of: ["again.example.com", "kept.example.com"])
                && seen.isSubset(of: ["again.example.com", "kept.example.com", "lost.example.com"])
                && seen == other
        })
    }
}
