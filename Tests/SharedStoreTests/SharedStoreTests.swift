import Foundation
import Synchronization
import RouterProtocol
import RouterTestSupport
import Testing

/// Several routerd on one shared store serve one table: each test runs on Redis and on etcd,
/// with real servers and routerd processes on temporary sockets and ports.
@Suite("Shared store: Redis and etcd", .serialized)
struct SharedStoreTests {
    @Test(arguments: SharedStoreKind.installed)
    func aRouteAddedOnOneDaemonIsServedByTheOther(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2)
        let a = try store.connect(0)
        let b = try store.connect(1)
        #expect(a.greeting["store"]?["kind"] == .string(kind.rawValue))
        #expect(a.greeting["store"]?["id"] == b.greeting["store"]?["id"])
        #expect(a.greeting["instance"] == b.greeting["instance"])
        let added = try a.request(#"{"id":1,"op":"add","key":"foo","tunnel":"t1","target":"127.0.0.1:8080"}"#)
        #expect(added["ok"] == .bool(true))
        // Reads are local on each daemon: B has the route once its copy caught up.
        #expect(try eventually { try b.request(#"{"id":2,"op":"lookup","key":"foo"}"#)["ok"] == .bool(true) })
        let lookup = try b.request(#"{"id":3,"op":"lookup","host":"FOO.example.com:443"}"#)
        #expect(lookup["result"]?["route"]?["target"] == .string("127.0.0.1:8080"))
        let refused = try b.request(#"{"id":4,"op":"add","key":"foo","tunnel":"t2"}"#)
        #expect(refused["error"]?["code"] == .string("conflict"))
        // An update through B is committed once and served by A.
        let updated = try b.request(#"{"id":5,"op":"update","key":"foo","target":"127.0.0.1:9090","labels":{"env":"prod"}}"#)
        #expect(updated["ok"] == .bool(true) && updated["result"]?["route"]?["tunnel"] == .string("t1"), "\(updated)")
        #expect(try eventually {
            try a.request(#"{"id":6,"op":"lookup","key":"foo"}"#)["result"]?["route"]?["target"] == .string("127.0.0.1:9090")
        })
    }

    @Test(arguments: SharedStoreKind.installed)
    func aDaemonReadsItsOwnWrites(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2)
        let b = try store.connect(1)
        for i in 0..<50 {
            #expect(try b.request(#"{"id":1,"op":"add","key":"own\#(i)","tunnel":"t\#(i)"}"#)["ok"] == .bool(true))
            #expect(try b.request(#"{"id":2,"op":"lookup","key":"own\#(i)"}"#)["ok"] == .bool(true))
        }
    }

    @Test(arguments: SharedStoreKind.installed, [2, 3])
    func racingDaemonsGiveEachNameExactlyOneWinner(kind: SharedStoreKind, daemons: Int) throws {
        let store = try SharedStoreDaemons(kind, daemons: daemons)
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

    /// A daemon committing a stream of its own adds, back to back, learns another daemon's
    /// change while it is still at it (its follower does not read the log meanwhile: the
    /// other change makes its next commit stale, and it catches up then), and loses none of
    /// its own adds on the way.
    @Test(arguments: SharedStoreKind.installed)
    func aDaemonBusyWithItsOwnAddsSeesAnotherDaemonsChangeMeanwhile(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2)
        let watcher = try store.connect(0)
        try watcher.send(#"{"id":"w","op":"watch","prefix":"theirs"}"#)
        #expect(try watcher.readJSON()["event"]?["type"] == .string("sync"))
        let flood = try store.connect(0)
        let count = 40_000
        var adds: [UInt8] = []
        for i in 0..<count { adds += Array(#"{"op":"add","key":"busy\#(i)","tunnel":"b"}"#.utf8) + [0x0A] }
        let fd = flood.fd
        let payload = adds
        let replies = ReplyCounter()
        Thread.detachNewThread {
            var offset = 0
            while offset < payload.count {
                let n = payload[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { return }
                offset += n
            }
        }
        Thread.detachNewThread { replies.count(from: fd, until: count) }
        // A is committing its own adds: another daemon adds a name meanwhile.
        #expect(eventually(timeout: 30) { replies.lines > 100 })
        #expect(try store.connect(1).request(#"{"id":1,"op":"add","key":"theirs","tunnel":"t"}"#)["ok"] == .bool(true))
        let event = try watcher.readJSON(timeout: 30)["event"]
        let answeredBefore = replies.lines
        #expect(event?["type"] == .string("add") && event?["key"] == .string("theirs.example.com"), "\(String(describing: event))")
        #expect(answeredBefore < count, "the stream of adds was over before A saw B's change: the test proves nothing")
        #expect(eventually(timeout: 60) { replies.lines == count })
        #expect(replies.errors == 0)
        #expect(try flood.request(#"{"id":2,"op":"lookup","key":"theirs"}"#)["ok"] == .bool(true))
        let stats = try flood.request(#"{"id":3,"op":"stats"}"#)
        #expect(stats["result"]?["routes"]?["host"]?.integerValue == Int64(count + 1), "\(stats)")
    }

    @Test(arguments: SharedStoreKind.installed)
    func aWatchResumesOnAnotherDaemon(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2)
        let a = try store.connect(0)
        for i in 1...5 { _ = try a.request(#"{"id":\#(i),"op":"add","key":"r\#(i)","tunnel":"t"}"#) }
        let instance = a.greeting["instance"]!.stringValue!
        let b = try store.connect(1)
        #expect(try eventually { try b.routes().count == 5 })
        let replayed = try b.startWatch(from: 3, instance: instance)
        #expect(replayed.map(LineClient.describe) == ["add r3.example.com 3", "add r4.example.com 4", "add r5.example.com 5"])
        let stranger = try store.connect(1)
        try stranger.send(#"{"id":"w","op":"watch","from_revision":3,"instance":"0000000000000000"}"#)
        #expect(try stranger.readJSON()["error"]?["code"] == .string("compacted"))
        // A daemon started later loads the same history from the store.
        let c = try store.connect(try store.join())
        #expect(try c.startWatch(from: 2, instance: instance).count == 4)
    }

    @Test(arguments: SharedStoreKind.installed)
    func severalSweepersExpireEachRouteOnce(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 3)
        let watcher = try store.connect(0)
        _ = try watcher.startWatch()
        let a = try store.connect(1)
        for i in 0..<20 {
            _ = try a.request(#"{"id":\#(i),"op":"add","key":"short\#(i)","tunnel":"t","ttl":1}"#)
        }
        let events = try watcher.events(40)
        #expect(events.filter { $0.hasPrefix("expire") }.count == 20)
        #expect(Set(events.filter { $0.hasPrefix("expire") }.map { $0.split(separator: " ")[1] }).count == 20)
        // No further expire comes: one per route, however many sweepers ran.
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 1.5) }
        for i in 0..<3 { #expect(try store.connect(i).routes().isEmpty) }
    }

    @Test(arguments: SharedStoreKind.installed)
    func aSessionResumesThroughAnotherDaemon(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2, arguments: ["--grace", "3s"])
        let a = try store.connect(0)
        #expect(try a.request(#"{"id":1,"op":"add","key":"mine","tunnel":"t","session":true}"#)["ok"] == .bool(true))
        let token = try #require(a.greeting["session"]?["resume_token"]?.stringValue)
        let watcher = try store.connect(1)
        #expect(try eventually { try watcher.routes().count == 1 })
        _ = try watcher.startWatch()
        a.close()
        let b = try store.connect(1)
        // The token is good at B once A has offered it (as A sees the connection close).
        var reply: JSONValue = .null
        #expect(try eventually {
            reply = try b.request(#"{"id":"h","op":"hello","resume":"\#(token)"}"#)
            return reply["ok"] == .bool(true)
        }, "\(reply)")
        #expect(reply["result"]?["resumed"] == .number("1"))
        let moved = try watcher.events(1)
        #expect(moved.first?.hasPrefix("update mine.example.com") == true, "\(moved)")
        // A dies: the route is B's session's now, and stays.
        store.daemons[0].process.signal(SIGKILL)
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 9) }
        #expect(try b.routes().keys.sorted() == ["mine.example.com"])
        // Spent: the token does not resume twice.
        let again = try store.connect(1).request(#"{"id":"h","op":"hello","resume":"\#(token)"}"#)
        #expect(again["error"]?["code"] == .string("not_found"))
    }

    @Test(arguments: SharedStoreKind.installed)
    func aSessionRouteAddedThroughADaemonThatJustJoinedStaysWhileItsClientIsConnected(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 1, arguments: ["--grace", "1s"])
        let watcher = try store.connect(0)
        _ = try watcher.startWatch()
        // B joins and takes a session route at once, before A has read B's lease.
        let b = try store.connect(try store.join())
        #expect(try b.request(#"{"id":1,"op":"add","key":"live","tunnel":"t","session":true}"#)["ok"] == .bool(true))
        let added = try watcher.events(1)
        #expect(added.first?.hasPrefix("add live.example.com") == true, "\(added)")
        // A reads B's lease at its next renewal (within 1 s); until B's client goes, nothing
        // expires (before the fix, A expired the route within 130 ms: a lease it had not read
        // counted as lapsed long ago).
        #expect(throws: (any Error).self) { try watcher.readLine(timeout: 3) }
        #expect(try b.routes().keys.sorted() == ["live.example.com"])
        // And it still goes once B's client does, after the grace.
        b.close()
        let gone = try watcher.events(1, timeout: 20)
        #expect(gone.first?.hasPrefix("expire live.example.com") == true, "\(gone)")
    }

    @Test(arguments: SharedStoreKind.installed)
    func aKilledDaemonsSessionRoutesGoAfterItsLeaseAndTheGrace(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2, arguments: ["--grace", "1s"])
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
        // The daemon's lease (5 s) had to lapse first (Redis: its lease entry; etcd: its member
        // key, dropped with its etcd lease), then the grace (1 s).
        #expect(Date().timeIntervalSince(killed) > 4)
        #expect(try b.routes().keys.sorted() == ["stays.example.com"])
    }
}

@Suite("Shared store: what it does not keep")
struct SharedStoreLimitsTests {
    @Test(arguments: SharedStoreKind.installed)
    func historyIsRefusedSayingWhereChangesAre(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 1)
        let reply = try store.connect(0).request(#"{"id":1,"op":"history"}"#)
        #expect(reply["error"]?["code"] == .string("bad_request"))
        #expect(reply["error"]?["message"]?.stringValue?.contains("shared store (--store) keeps no change history") == true, "\(reply)")
    }
}

/// Counts the reply lines read from a socket (and those that are errors) on a thread of its own.
final class ReplyCounter: Sendable {
    private let counts = Mutex((lines: 0, errors: 0))

    var lines: Int { counts.withLock { $0.lines } }
    var errors: Int { counts.withLock { $0.errors } }

    /// Reads from `fd` until `expected` lines came or the connection ends.
    func count(from fd: Int32, until expected: Int) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while lines < expected {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            pending += chunk[..<n]
            var lineStart = 0
            var found = (lines: 0, errors: 0)
            for i in 0..<pending.count where pending[i] == 0x0A {
                if !pending[lineStart..<i].starts(with: Array(#"{"id":null,"ok":true"#.utf8)) { found.errors += 1 }
                found.lines += 1
                lineStart = i + 1
            }
            pending.removeFirst(lineStart)
            counts.withLock { $0.lines += found.lines; $0.errors += found.errors }
        }
    }
}
