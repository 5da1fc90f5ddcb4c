import Dispatch
import DomainRouter
import Foundation
import Glibc
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

/// Long runs of pipelined adds go to the server's table writer thread while the connection's
/// event loop reads on; these check that order, sessions and shutdown are what they were.
@Suite("Bulk loads through the table writer", .serialized)
struct BulkLoadTests {
    @Test func aBulkLoadWithOtherRequestsMixedInKeepsRequestOrder() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            var lines: [String] = []
            for i in 0..<3_000 {
                if i % 400 == 399 {
                    lines.append(#"{"id":\#(i),"op":"lookup","host":"b\#(i - 1).example.com"}"#) // the add just before
                } else if i % 250 == 3 {
                    lines.append(#"{"id":\#(i),"op":"add","key":"bad_name"}"#)
                } else if i == 1_500 {
                    lines.append(#"{"id":1500,"op":"#)
                } else if i == 2_000 {
                    lines.append(#"{"id":2000,"op":"add","key":"b10","tunnel":"another"}"#)
                } else {
                    lines.append(#"{"id":\#(i),"op":"add","key":"b\#(i)"}"#)
                }
            }
            try c.sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
            var revision = 0
            for i in 0..<3_000 {
                let reply = try c.readJSON()
                if i != 1_500 { #expect(reply["id"] == .number(i), "reply \(i) out of order: \(reply)") }
                if i % 400 == 399 {
                    #expect(reply.result?["route"]?["key"] == .string("b\(i - 1).example.com"), "\(i): \(reply)")
                } else if i % 250 == 3 {
                    #expect(reply.errorCode == "invalid_name", "\(i): \(reply)")
                } else if i == 1_500 {
                    #expect(reply.errorCode == "bad_request", "\(i): \(reply)")
                } else if i == 2_000 {
                    #expect(reply.errorCode == "conflict", "\(i): \(reply)")
                } else {
                    #expect(reply.ok, "\(i): \(reply)")
                    let created = reply.result?["route"]?["create_revision"]?.integerValue.map(Int.init) ?? 0
                    #expect(created == revision + 1, "revisions follow request order")
                    revision = created
                }
            }
            #expect(try c.request(#"{"op":"ping"}"#).ok)
        }
    }

    @Test func aLoadFasterThanTheTableIsReadInPartsAndAnsweredInFull() async throws {
        // With the writer held, the runs out and then the held frames reach their limits and
        // the daemon stops reading; once the writer goes on, it reads again until the end.
        try await withDaemon { daemon in
            let release = DispatchSemaphore(value: 0)
            daemon.server.tableWriter.submit { _ in release.wait() }
            let c = try daemon.connect()
            var batch: [UInt8] = []
            for i in 0..<20_000 { batch += Array(#"{"id":\#(i),"op":"add","key":"f\#(i)"}"#.utf8) + [0x0A] }
            let fd = c.fd
            let payload = batch
            let sent = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                var offset = 0
                while offset < payload.count {
                    let n = payload[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    offset += n
                }
                sent.signal()
            }
            usleep(300_000)
            release.signal()
            for i in 0..<20_000 {
                let reply = try c.readJSON()
                #expect(reply["id"] == .number(i) && reply.ok, "\(i): \(reply)")
                if reply["id"] != .number(i) { break }
            }
            sent.wait()
            #expect(daemon.server.table.stats().total == 20_000)
        }
    }

    @Test func aHalfClosedBulkLoadIsAnsweredInFullBeforeTheDaemonCloses() async throws {
        // A script piping a file: the daemon closes only once the runs out are answered.
        try await withDaemon { daemon in
            let c = try daemon.connect()
            var batch: [UInt8] = []
            for i in 0..<2_000 { batch += Array(#"{"id":\#(i),"op":"add","key":"h\#(i)"}"#.utf8) + [0x0A] }
            try c.sendRaw(batch)
            shutdown(c.fd, Int32(SHUT_WR))
            for i in 0..<2_000 {
                let reply = try c.readJSON()
                #expect(reply["id"] == .number(i) && reply.ok, "\(i): \(reply)")
                if reply["id"] != .number(i) { break }
            }
            #expect(c.isClosed())
        }
    }

    @Test func aClientLeavingMidLoadLosesEverySessionRoute() async throws {
        // The session may only end once every add it sent is in the table: a run landing
        // after its end would hold routes that nothing removes. With no grace, the session's
        // routes go the moment it ends.
        try await withDaemon({ $0.grace = .zero }) { daemon in
            // The table writer is kept busy, so the runs are still out when the client leaves.
            let release = DispatchSemaphore(value: 0)
            daemon.server.tableWriter.submit { _ in release.wait() }
            let c = try daemon.connect()
            var batch: [UInt8] = []
            for i in 0..<5_000 { batch += Array(#"{"op":"add","key":"s\#(i)","session":true}"#.utf8) + [0x0A] }
            try c.sendRaw(batch)
            c.close()
            // Time for the close to arrive while the runs are out (nothing to wait on: the
            // connection stays counted until its runs are in). Shorter, the test still checks
            // the same end state, just less of the path to it.
            usleep(300_000)
            release.signal()
            let table = daemon.server.table
            #expect(eventually { table.stats().revision > 0 && table.stats().total == 0 },
                    "\(table.stats().total) session routes left")
            usleep(300_000)
            #expect(table.stats().total == 0 && table.stats().sessions == 0, "\(table.stats())")
        }
    }

    @Test func shutdownAnswersEveryAddItApplied() async throws {
        let daemon = try await InProcessDaemon.start()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let c = try daemon.connect()
        var batch: [UInt8] = []
        for i in 0..<5_000 { batch += Array(#"{"id":\#(i),"op":"add","key":"d\#(i)"}"#.utf8) + [0x0A] }
        try c.sendRaw(batch)
        let server = daemon.server
        let stopped = Task { await server.shutdown() } // a peer that does not read is cut after 1 s
        var answered = 0
        while let line = try? c.readLine(timeout: 5) {
            let reply = try JSONParser.parse(line)
            if reply["id"] == .number(answered) {
                #expect(reply.ok, "\(reply)")
                answered += 1
            } else {
                // Only an end-of-service notice may follow the answers.
                #expect(reply["id"] == .null && reply.errorCode == "unavailable", "\(reply)")
            }
        }
        await stopped.value
        #expect(answered == server.table.stats().total, "every add applied was answered")
        #expect(answered > 0)
    }
}
