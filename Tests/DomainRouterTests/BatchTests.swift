import Testing
@testable import DomainRouter
import Synchronization

@Suite("Atomic batches")
struct BatchTests {
    func add(_ table: RouteTable, _ key: String, tunnel: String, ttl: Duration? = nil) throws -> BatchOperation {
        .add(AddRequest(.key(try table.key(key)), tunnel: try TunnelID(tunnel), ttl: ttl))
    }

    @Test func committedBatchAppliesEveryOperationWithOneRevisionEach() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice)
        let outcomes = try table.apply([
            try add(table, "a", tunnel: "t1"),
            try add(table, "b", tunnel: "t1"),
            .delete(try table.key("old")),
            .touch(try table.key("a"), ttl: .seconds(30)),
        ], as: alice)
        #expect(outcomes.count == 4)
        #expect(table.keys() == ["a.example.com", "b.example.com"])
        #expect(table.revision == 5)
        #expect(try table.events(from: 2).map(\.kind) == [.add, .add, .delete, .update])
    }

    @Test func failedBatchLeavesTableRevisionAndHistoryUntouched() throws {
        let table = try makeTable()
        try table.add("taken", tunnel: "bobs", as: bob)
        try table.add("mine", tunnel: "t1", as: alice, ttl: .seconds(60), labels: ["env": "prod"])
        let before = table.list(as: root).routes
        let revision = table.revision
        let failure = #expect(throws: BatchFailure.self) {
            try table.apply([
                try add(table, "fresh", tunnel: "t1"),
                try add(table, "mine", tunnel: "t1"),
                .delete(try table.key("mine")),
                .add(AddRequest(.random(domain: nil), tunnel: try TunnelID("t1"))),
                try add(table, "taken", tunnel: "t1"),
            ], as: alice)
        }
        #expect(failure?.index == 4)
        #expect(failure?.error.code == .conflict)
        #expect(table.list(as: root).routes == before)
        #expect(table.revision == revision)
        #expect(try table.events(from: revision + 1).isEmpty)
        #expect(table.stats().tunnels == 2)
    }

    @Test func watchersSeeNothingOfARolledBackBatch() throws {
        let table = try makeTable()
        try table.add("taken", tunnel: "bobs", as: bob)
        let seen = Mutex<[RouteEvent]>([])
        let handle = try table.subscribe { event in seen.withLock { $0.append(event) }; return true }
        defer { handle.cancel() }
        _ = try? table.apply([try add(table, "a", tunnel: "t1"), try add(table, "taken", tunnel: "t1")], as: alice)
        _ = try table.apply([try add(table, "c", tunnel: "t1")], as: alice)
        #expect(seen.withLock { $0.map(\.kind) } == [.sync, .add])
        #expect(seen.withLock { $0.last?.key } == "c.example.com")
        #expect(seen.withLock { $0.last?.revision } == 2)
    }

    @Test func deletingATunnelThenFailingRestoresAllItsRoutes() throws {
        let table = try makeTable()
        for name in ["x", "y", "z"] { try table.add(name, tunnel: "t1", as: alice, session: 7) }
        let before = table.list(as: root).routes
        #expect(throws: BatchFailure.self) {
            try table.apply([.delete(try table.key("uuid:t1")), .delete(try table.key("nothing"))], as: alice)
        }
        #expect(table.list(as: root).routes == before)
        #expect(try table.tunnel(TunnelID("t1")).routes.count == 3)
        table.endSession(7, grace: .zero)
        #expect(table.keys().isEmpty, "restored routes are still bound to their session")
    }

    @Test func invalidOperationIsReportedWithItsIndexBeforeAnythingRuns() throws {
        let table = try makeTable()
        let failure = #expect(throws: BatchFailure.self) {
            try table.apply([try add(table, "a", tunnel: "t1"), .touch(try table.key("a"), ttl: .zero)], as: alice)
        }
        #expect(failure?.index == 1)
        #expect(table.revision == 0)
    }
}
