import Foundation
import Logging
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Synchronization
import Testing
@testable import RouterServer

/// The audit trail: one line per connection, per change and per refused request, none per
/// successful lookup, whichever thread ran the change.
@Suite("The daemon's log", .serialized)
struct AuditLogTests {
    @Test func everyChangeAndRefusalIsLoggedOnceAndLookupsAreNot() async throws {
        let recorder = LogRecorder()
        let daemon = try await InProcessDaemon.start(logger: recorder.logger(level: .info))
        do {
            let c = try daemon.connect()
            // 300 adds in one burst: full runs go to the table writer, the rest run on the loop.
            var lines: [String] = []
            for i in 0..<300 { lines.append(#"{"id":\#(i),"op":"add","key":"a\#(i)","tunnel":"t"}"#) }
            lines.append(#"{"id":"dup","op":"add","key":"a1","tunnel":"other"}"#)
            lines.append(#"{"id":"look","op":"lookup","host":"a1.example.com"}"#)
            lines.append(#"{"id":"del","op":"delete","key":"a2"}"#)
            try c.sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
            for _ in 0..<lines.count { _ = try c.readJSON() }
            c.close()
            #expect(eventually { recorder.all.contains { $0.message == "disconnected" } })
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
        let log = recorder.all
        let adds = log.filter { $0.message == "add" }
        #expect(adds.count == 300)
        #expect(Set(adds.compactMap { $0.metadata["key"] }) == Set((0..<300).map { "a\($0).example.com" }))
        #expect(adds.allSatisfy { $0.level == .notice && $0.metadata["tunnel"] == "t" && $0.metadata["owner"] != nil })
        let refused = log.filter { $0.message == "refused" }
        #expect(refused.count == 1)
        #expect(refused.first?.metadata["code"] == "conflict")
        #expect(log.filter { $0.message == "delete" }.map { $0.metadata["key"] } == ["a2.example.com"])
        #expect(log.filter { $0.message == "connected" }.count == 1)
        #expect(!log.contains { $0.metadata["key"] == "a1.example.com" && $0.message != "add" },
                "a successful lookup is not logged")
    }

    @Test func anUnfinishedLineAtShutdownIsNotARequest() async throws {
        let recorder = LogRecorder()
        let daemon = try await InProcessDaemon.start(logger: recorder.logger(level: .info))
        let c = try daemon.connect()
        #expect(try c.request(#"{"id":1,"op":"ping"}"#).ok)
        try c.sendRaw(Array(#"{"id":2,"op":"add","key":"half"#.utf8))
        usleep(100_000)
        await daemon.stop()
        #expect(c.isClosed())
        #expect(!recorder.all.contains { $0.message == "refused" }, "\(recorder.all.map(\.message))")
    }

    @Test func aLastLineWithoutItsNewlineIsAnsweredWhenTheClientHalfCloses() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            try c.sendRaw(Array(#"{"id":1,"op":"ping"}"#.utf8))
            shutdown(c.fd, Int32(SHUT_WR))
            #expect(try c.readJSON()["id"] == .number("1"))
        }
    }
}
