import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Synchronization
import Testing
@testable import RouterServer

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

@Suite("Sessions and watches", .serialized)
struct SessionAndWatchTests {
    @Test func sessionRoutesGoAfterTheGraceAndWatchersSeeIt() async throws {
        try await withDaemon({ $0.grace = .milliseconds(800) }) { daemon in
            let watcher = try daemon.connect()
            try watcher.send(#"{"id":"w","op":"watch"}"#)
            #expect(try watcher.readJSON()["event"]?["type"] == .string("sync"))
            let holder = try daemon.connect()
            #expect(try holder.request(#"{"op":"add","key":"s1","session":true}"#).ok)
            #expect(try holder.request(#"{"op":"add","key":"s2","session":true}"#).ok)
            #expect(try holder.request(#"{"op":"add","key":"kept"}"#).ok)
            for _ in 0..<3 { #expect(try watcher.readJSON()["event"]?["type"] == .string("add")) }
            let closedAt = Date()
            holder.close()
            let checker = try daemon.connect()
            #expect(eventually { daemon.server.counts.connections == 2 }, "the daemon has seen the holder go")
            // Still there, unless this machine stalled past most of the grace since the close.
            let present = try checker.request(#"{"op":"lookup","host":"s1.example.com"}"#).ok
            #expect(present || Date().timeIntervalSince(closedAt) >= 0.6, "gone before the grace")
            let first = try watcher.readJSON(timeout: 10)
            let second = try watcher.readJSON(timeout: 10)
            let elapsed = Date().timeIntervalSince(closedAt)
            #expect(first["event"]?["type"] == .string("expire"))
            #expect(second["event"]?["type"] == .string("expire"))
            #expect(Set([first["event"]?["key"], second["event"]?["key"]]) == [.string("s1.example.com"), .string("s2.example.com")])
            #expect(elapsed >= 0.7 && elapsed < 5, "removed after \(elapsed) s")
            #expect(try checker.request(#"{"op":"lookup","host":"kept.example.com"}"#).ok)
        }
    }

    @Test func resumingInsideTheGraceKeepsTheRoutes() async throws {
        try await withDaemon({ $0.grace = .seconds(3) }) { daemon in
            let first = try daemon.connect()
            let token = try #require(first.greeting["session"]?["resume_token"]?.stringValue)
            #expect(try first.request(#"{"op":"add","key":"mine","session":true}"#).ok)
            first.close()
            #expect(eventually { daemon.server.counts.connections == 0 }, "the daemon has seen the first connection go")
            let second = try daemon.connect()
            let hello = try second.request(#"{"id":1,"op":"hello","resume":"\#(token)"}"#)
            #expect(hello.result?["resumed"] == .number(1))
            second.close()
            #expect(eventually { daemon.server.counts.connections == 0 }, "the daemon has seen the second connection go")
            // The second connection's own grace applies now; the first token is spent.
            let third = try daemon.connect()
            #expect(try third.request(#"{"id":2,"op":"hello","resume":"\#(token)"}"#).errorCode == "not_found")
            #expect(try third.request(#"{"op":"lookup","host":"mine.example.com"}"#).ok)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"), "needs socat (.ci/run installs it)"))
    func aKilledClientProcessLosesItsSessionRoutesAfterTheGrace() async throws {
        try await withDaemon({ $0.grace = .milliseconds(800) }) { daemon in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
            process.arguments = ["-", "UNIX-CONNECT:\(daemon.socketPath)"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            input.fileHandleForWriting.write(Data(#"{"id":1,"op":"add","key":"killed","session":true}"#.utf8 + [0x0A]))
            let checker = try daemon.connect()
            #expect(eventually { (try? checker.request(#"{"op":"lookup","host":"killed.example.com"}"#).ok) == true })
            let killedAt = Date()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(eventually { daemon.server.counts.connections == 1 }, "the daemon has seen the killed client go")
            // Still there, unless this machine stalled past most of the grace since the kill.
            let present = try checker.request(#"{"op":"lookup","host":"killed.example.com"}"#).ok
            #expect(present || Date().timeIntervalSince(killedAt) >= 0.6, "gone before the grace")
            #expect(eventually(timeout: 10) { (try? checker.request(#"{"op":"lookup","host":"killed.example.com"}"#).errorCode) == "not_found" })
            #expect(Date().timeIntervalSince(killedAt) >= 0.7)
        }
    }

    @Test func watchResumesFromARevisionWithoutGapsOrDuplicates() async throws {
        try await withDaemon { daemon in
            let writer = try daemon.connect()
            let watcher = try daemon.connect()
            let instance = watcher.greeting["instance"]!.stringValue!
            try watcher.send(#"{"id":"w","op":"watch","prefix":"k"}"#)
            #expect(try watcher.readJSON()["event"]?["type"] == .string("sync"))
            for i in 0..<5 { #expect(try writer.request(#"{"op":"add","key":"k\#(i)"}"#).ok) }
            var seen: [Int64] = []
            for _ in 0..<5 { seen.append(try watcher.readJSON()["event"]!["revision"]!.integerValue!) }
            watcher.close()
            for i in 5..<9 { #expect(try writer.request(#"{"op":"add","key":"k\#(i)"}"#).ok) }
            let again = try daemon.connect()
            try again.send(#"{"id":"w2","op":"watch","prefix":"k","from_revision":\#(seen.last! + 1),"instance":"\#(instance)"}"#)
            var replayed: [Int64] = []
            while true {
                let event = try again.readJSON()["event"]!
                if event["type"] == .string("sync") { break }
                replayed.append(event["revision"]!.integerValue!)
            }
            #expect(seen == [1, 2, 3, 4, 5])
            #expect(replayed == [6, 7, 8, 9])
            #expect(try writer.request(#"{"op":"add","key":"k9"}"#).ok)
            #expect(try again.readJSON()["event"]?["revision"] == .number(10))
            let cancelled = try again.request(#"{"id":"c","op":"cancel","watch":"w2"}"#)
            #expect(cancelled.ok)
            #expect(try again.readJSON().result?["cancelled"] == .bool(true))
        }
    }

    @Test func watchFromAnotherInstanceOrCompactedHistoryIsRefused() async throws {
        try await withDaemon({ $0.table.historyLimit = 3 }) { daemon in
            let c = try daemon.connect()
            let restarted = try c.request(#"{"id":1,"op":"watch","from_revision":1,"instance":"0000000000000000"}"#)
            #expect(restarted.errorCode == "compacted")
            #expect(restarted["error"]?["details"]?["reason"] == .string("restarted"))
            for i in 0..<6 { _ = try c.request(#"{"op":"add","key":"h\#(i)"}"#) }
            let old = try c.request(#"{"id":2,"op":"watch","from_revision":2}"#)
            #expect(old.errorCode == "compacted")
            #expect(old["error"]?["details"]?["oldest_revision"] == .number(4))
        }
    }

    @Test func aWatcherThatStopsReadingIsCutOffWhileOthersCarryOn() async throws {
        // 3,000 events of backlog: room for the reading watcher (a debug-built thread sharing two
        // cores with a debug-built daemon and the other suites) to fall behind for a while
        // without being cut; the silent one holds over 5,000 once its socket buffer is full.
        try await withDaemon({ $0.watcherBuffer = 3000 }) { daemon in
            let slow = try daemon.connect()
            try slow.send(#"{"id":"slow","op":"watch"}"#)
            let count = 6000
            let fastEvents = Counter()
            let ready = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            let path = daemon.socketPath
            Thread.detachNewThread {
                // A watcher that keeps reading, on its own thread.
                defer { done.signal() }
                guard let fast = try? LineClient(path: path) else { ready.signal(); return }
                try? fast.send(#"{"id":"fast","op":"watch"}"#)
                _ = try? fast.readLine()
                ready.signal()
                while fastEvents.value.load(ordering: .relaxed) < count, let line = try? fast.readLine(timeout: 20) {
                    if line.utf8.starts(with: #"{"id":"fast","event""#.utf8) { fastEvents.value.add(1, ordering: .relaxed) }
                }
            }
            ready.wait()
            let writer = try daemon.connect()
            let label = String(repeating: "x", count: 200)
            var batch: [UInt8] = []
            for i in 0..<count { batch += Array(#"{"op":"add","key":"slow\#(i)","labels":{"pad":"\#(label)"}}"#.utf8) + [0x0A] }
            try writer.sendRaw(batch)
            for _ in 0..<count { #expect(try writer.readJSON().ok) }
            done.wait()
            #expect(fastEvents.value.load(ordering: .relaxed) == count)
            // The watcher that never read is cut once its backlog has stayed above the limit for
            // 2 s, and its connection closes at once: it leaves `stats` without this test ever
            // reading it (reading would make it a reader).
            // Generous: other suites (Redis, 1,000-client races) may load the machine meanwhile;
            // what is checked is that the cut comes, not how soon.
            let cut = try eventually(timeout: 30) {
                let stats = try writer.request(#"{"op":"stats"}"#).result
                return stats?["watchers"] == .number(0) && stats?["connections"] == .number(1)
            }
            #expect(cut, "the slow watcher's connection is gone within the patience and a moment")
            #expect(slow.isClosed(timeout: 20), "what the socket held, then the close")
            #expect(try writer.request(#"{"op":"ping"}"#).ok)
        }
    }

    @Test func aWatcherPastItsByteLimitIsCutAtOnce() async throws {
        // The event count limit is out of reach; only the bytes held for the watcher cut it.
        try await withDaemon({ $0.watcherBuffer = 1_000_000; $0.watcherBufferBytes = 256 * 1024 }) { daemon in
            let silent = try daemon.connect()
            try silent.send(#"{"id":"w","op":"watch"}"#)
            let writer = try daemon.connect()
            #expect(try eventually { try writer.request(#"{"op":"stats"}"#).result?["watchers"] == .number(1) })
            let label = String(repeating: "x", count: 250)
            var batch: [UInt8] = []
            let count = 8000
            for i in 0..<count { batch += Array(#"{"op":"add","key":"big\#(i)","labels":{"pad":"\#(label)"}}"#.utf8) + [0x0A] }
            try writer.sendRaw(batch)
            for _ in 0..<count { let reply = try writer.readJSON(); #expect(reply.ok, "\(reply)") }
            // Well under the 2 s patience of the count limit.
            #expect(try eventually(timeout: 1) {
                try writer.request(#"{"op":"stats"}"#).result?["connections"] == .number(1)
            })
            #expect(silent.isClosed())
        }
    }

    @Test func shutdownEndsWatchesWithUnavailable() async throws {
        let daemon = try await InProcessDaemon.start()
        let watcher = try daemon.connect()
        try watcher.send(#"{"id":"w","op":"watch"}"#)
        #expect(try watcher.readJSON()["event"]?["type"] == .string("sync"))
        let path = daemon.socketPath
        await daemon.stop()
        let last = try watcher.readJSON()
        #expect(last["id"] == .string("w"))
        #expect(last.errorCode == "unavailable")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
