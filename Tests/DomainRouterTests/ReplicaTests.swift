import Foundation
import Testing
@testable import DomainRouter
import RouterTestSupport
import Synchronization

/// Drafts (changes worked out without being made) and replicas (tables fed with events).
@Suite("Drafts and replicas")
struct ReplicaTests {
    func request(_ table: RouteTable, _ key: String, tunnel: String, ttl: Duration? = nil,
                 session: UInt64? = nil) throws -> AddRequest {
        AddRequest(.key(try table.key(key)), tunnel: try TunnelID(tunnel), ttl: ttl, session: session)
    }

    @Test func draftLeavesTheTableAsItWas() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice, ttl: .seconds(60), labels: ["env": "prod"])
        let before = table.list(as: root).routes
        let seen = Mutex<[RouteEvent.Kind]>([])
        let handle = try table.subscribe { event in
            seen.withLock { $0.append(event.kind) }
            return true
        }
        defer { handle.cancel() }
        let draft = table.draft([
            .add([try request(table, "new", tunnel: "t1"), try request(table, "old", tunnel: "t0", ttl: .seconds(5))], alice),
            .delete(try table.key("old"), alice),
        ])
        #expect(draft.base == 1)
        #expect(draft.events.map(\.kind) == [.add, .update, .delete])
        #expect(draft.events.map(\.revision) == [2, 3, 4])
        #expect(table.list(as: root).routes == before)
        #expect(table.revision == 1)
        #expect(table.lookup(host: "new.example.com") == nil)
        #expect(seen.withLock { $0 } == [.sync])
    }

    @Test func replicatingADraftEqualsMakingTheChange() throws {
        let clock = ManualClock()
        let direct = try makeTable(clock: clock)
        let replica = try makeTable(clock: clock)
        for table in [direct, replica] {
            try table.add("a", tunnel: "t1", as: alice, ttl: .seconds(30))
            try table.add("*.w.example.com", tunnel: "t2", as: bob)
        }
        let steps: [DraftStep] = [
            .add([try request(replica, "b", tunnel: "t1", session: 7), try request(replica, "a", tunnel: "t1")], alice),
            .touch(try replica.key("*.w.example.com"), ttl: .seconds(9), bob),
            .delete(.tunnel(try TunnelID("t1")), alice),
        ]
        let draft = replica.draft(steps)
        _ = direct.add(each: [try request(direct, "b", tunnel: "t1", session: 7), try request(direct, "a", tunnel: "t1")], as: alice)
        try direct.touch(try direct.key("*.w.example.com"), ttl: .seconds(9), as: bob)
        try direct.delete(.tunnel(try TunnelID("t1")), as: alice)
        #expect(replica.replicate(draft.events) == .applied(revision: direct.revision))
        #expect(replica.list(as: root).routes == direct.list(as: root).routes)
        #expect(try replica.events(from: 3) == direct.events(from: 3))
    }

    @Test func draftAfterPendingEventsSeesThemAndLeavesTheTableAsItWas() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice)
        let before = table.list(as: root).routes
        let first = table.draft([
            .add([try request(table, "new", tunnel: "t1")], alice),
            .delete(try table.key("old"), alice),
        ])
        // Drafted while the first is still committing: it sees "new" taken and "old" free.
        let second = table.draft([
            .add([try request(table, "new", tunnel: "t2"), try request(table, "old", tunnel: "t2")], bob),
        ], after: first.events)
        #expect(second.base == first.events.last!.revision)
        #expect(second.events.map(\.revision) == [first.events.last!.revision + 1])
        guard case .added(let results) = second.outcomes[0] else {
            Issue.record("an add step answers added: \(second.outcomes[0])")
            return
        }
        #expect(throws: RouteError.self) { try results[0].get() }
        #expect(try results[1].get().route.key == "old.example.com")
        #expect(table.list(as: root).routes == before)
        #expect(table.revision == 1)

        // Committed in order, the two equal the same changes made one after the other.
        #expect(table.replicate(first.events + second.events) == .applied(revision: 4))
        let direct = try makeTable()
        try direct.add("old", tunnel: "t0", as: alice)
        try direct.add("new", tunnel: "t1", as: alice)
        try direct.delete(try direct.key("old"), as: alice)
        try direct.add("old", tunnel: "t2", as: bob)
        #expect(table.list(as: root).routes.map(\.key) == direct.list(as: root).routes.map(\.key))
        #expect(table.list(as: root).routes.map(\.tunnel) == direct.list(as: root).routes.map(\.tunnel))
    }

    @Test func draftAfterEventsTheTableAlreadyHasSkipsThem() throws {
        let table = try makeTable()
        let first = table.draft([.add([try request(table, "a", tunnel: "t1")], alice)])
        // The first committed and was applied (a follower saw it) before the second drafts.
        #expect(table.replicate(first.events) == .applied(revision: 1))
        let second = table.draft([.add([try request(table, "b", tunnel: "t1")], alice)], after: first.events)
        #expect(second.base == 1)
        #expect(second.events.map(\.revision) == [2])
        #expect(table.revision == 1)
        #expect(table.lookup(host: "a.example.com") != nil)
    }

    @Test func failedBatchInADraftUndoesOnlyItself() throws {
        let table = try makeTable()
        try table.add("taken", tunnel: "bobs", as: bob)
        let draft = table.draft([
            .add([try request(table, "first", tunnel: "t1")], alice),
            .batch([.add(try request(table, "second", tunnel: "t1")), .add(try request(table, "taken", tunnel: "t1"))], alice),
            .add([try request(table, "third", tunnel: "t1")], alice),
        ])
        guard case .batch(.failure(let failure)) = draft.outcomes[1] else {
            Issue.record("the batch should fail: \(draft.outcomes[1])")
            return
        }
        #expect(failure.index == 1)
        #expect(failure.error.code == .conflict)
        #expect(draft.events.map(\.key) == ["first.example.com", "third.example.com"])
        #expect(draft.events.map(\.revision) == [2, 3])
    }

    /// Drafts leave the sorted key list alone and count on their rollback to put every slot
    /// back as it was: after any mix of drafts (adds, deletes, updates, batches that fail,
    /// drafts on pending events, committed or not) a listing holds exactly the live keys, in
    /// order. Seeded; debug builds also check each draft's slots as it ends. With `keep`, the
    /// drafts of plain adds stay in the table hidden until committed or abandoned: lookups,
    /// counts and listings show only what was committed.
    @Test(arguments: [1, 2, 3, 20261206] as [UInt64], [false, true])
    func listingsStayInKeyOrderWhateverIsDrafted(seed: UInt64, keep: Bool) throws {
        var rng = SplitMix64(state: seed)
        let table = try makeTable()
        var live = Set<String>()
        func name(_ i: Int) -> String { i % 3 == 0 ? "a-very-long-name-beyond-the-inline-bytes-\(i)" : "n\(i)" }
        func key(_ i: Int) throws -> RouteKey { try table.key(name(i)) }
        func randomStep() throws -> DraftStep {
            let i = Int.random(in: 0..<60, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0, 1:
                return .add(try (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                    try request(table, name(Int.random(in: 0..<60, using: &rng)), tunnel: "t\(i % 4)")
                }, alice)
            case 2:
                return i % 7 == 0 ? .delete(.tunnel(try TunnelID("t\(i % 4)")), alice) : .delete(try key(i), alice)
            case 3:
                return .update(try key(i), RouteChange(target: try RouteTarget(parsing: "127.0.0.1:\(1000 + i)")), alice)
            default:
                return .batch([.add(try request(table, name(i), tunnel: "t1")), .delete(try key(i + 1)),
                               .add(try request(table, name(i + 2), tunnel: "t2"))], alice)
            }
        }
        func commit(_ events: [RouteEvent]) {
            _ = table.replicate(events)
            for event in events {
                switch event.kind {
                case .add, .update: live.insert(event.key)
                default: live.remove(event.key)
                }
            }
        }
        var pending: [RouteEvent] = []
        for _ in 0..<300 {
            let steps = try (0..<Int.random(in: 1...5, using: &rng)).map { _ in try randomStep() }
            let draft = table.draft(steps, after: pending, keep: keep)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: // this draft is under way while the next is drafted on it
                commit(pending)
                pending = draft.events
            case 1: // the commit under way did not go through: both are void
                table.abandonDrafts()
                pending = []
            default:
                commit(pending + draft.events)
                pending = []
            }
            let listed = table.list(as: root).routes.map(\.key)
            #expect(listed == live.sorted(), "after \(table.revision) revisions")
            #expect(table.stats().hosts == live.count)
            for i in 0..<60 {
                #expect(table.contains(try key(i)) == live.contains(name(i) + ".example.com"), "\(name(i)) after \(table.revision) revisions")
            }
        }
    }

    @Test func replicateSkipsWhatItHasAndStopsAtAGap() throws {
        let source = try makeTable()
        try source.add("a", tunnel: "t1", as: alice)
        try source.add("b", tunnel: "t1", as: alice)
        try source.add("c", tunnel: "t1", as: alice)
        let events = try source.events(from: 1)
        let replica = try makeTable()
        #expect(replica.replicate(Array(events[0...1])) == .applied(revision: 2))
        #expect(replica.replicate(events) == .applied(revision: 3))
        #expect(replica.keys() == source.keys())
        let later = try makeTable()
        #expect(later.replicate([events[2]]) == .gap(revision: 0, next: 3))
        #expect(later.keys().isEmpty)
    }

    @Test func loadEndsEveryWatchAndReplacesTheRoutes() async throws {
        let source = try makeTable()
        try source.add("kept", tunnel: "t1", as: alice)
        let replica = try makeTable()
        try replica.add("stale", tunnel: "t9", as: bob)
        let stream = try replica.subscribe()
        let reset = Mutex<RouteEvent.Kind?>(nil)
        let handle = try replica.subscribe { event in
            if event.kind != .sync { reset.withLock { $0 = event.kind } }
            return true
        }
        defer { handle.cancel() }
        replica.load(source.list(as: root).routes, revision: 40, reason: .reset("the store lost its data"))
        #expect(replica.keys() == ["kept.example.com"])
        #expect(replica.revision == 40)
        #expect(reset.withLock { $0 } == .reset)
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next()?.kind == .sync)
        await #expect(throws: RouteError.self) { _ = try await iterator.next() }
        #expect(replica.lookup(host: "kept.example.com")?.route.tunnel == (try TunnelID("t1")))
    }

    @Test func aTableBeingLoadedAnswersFromItsOldRoutesUntilTheNewOnesTakeTheirPlace() throws {
        let source = try makeTable()
        try source.add("new1", tunnel: "t1", as: alice)
        try source.add("new2", tunnel: "t2", as: alice)
        let routes = source.list(as: root).routes
        let replica = try makeTable()
        try replica.add("old", tunnel: "t0", as: bob)
        var chunks = routes.map { [$0] }[...]
        var seenBetweenChunks: [[String]] = []
        try replica.load(revision: 7, history: [], reason: .reset("reloaded"), chunks: {
            if chunks.count < routes.count {
                // Another thread reads while the load is under way: it must not wait for it.
                let answered = DispatchSemaphore(value: 0)
                let seen = Mutex<[String]>([])
                Thread.detachNewThread {
                    seen.withLock { $0 = replica.keys() + (replica.lookup(host: "new1.example.com") == nil ? [] : ["found new1"]) }
                    answered.signal()
                }
                #expect(answered.wait(timeout: .now() + 30) == .success, "a lookup waited for the load")
                seenBetweenChunks.append(seen.withLock { $0 })
            }
            return chunks.popFirst()
        })
        #expect(seenBetweenChunks == [["old.example.com"], ["old.example.com"]])
        #expect(replica.keys() == ["new1.example.com", "new2.example.com"])
        #expect(replica.revision == 7)
        #expect(replica.lookup(host: "old.example.com") == nil)
    }

    @Test func aLoadThatFailsPartWayLeavesTheTableAsItWas() throws {
        struct ReadFailed: Error {}
        let replica = try makeTable()
        try replica.add("old", tunnel: "t0", as: bob)
        let source = try makeTable()
        try source.add("new", tunnel: "t1", as: alice)
        var handedOver = false
        #expect(throws: ReadFailed.self) {
            try replica.load(revision: 9, history: [], reason: .reset("reloaded"), chunks: {
                if handedOver { throw ReadFailed() }
                handedOver = true
                return source.list(as: root).routes
            })
        }
        #expect(replica.keys() == ["old.example.com"])
        #expect(replica.revision == 1)
    }

    @Test func aKeyLoadedTwiceKeepsTheLaterRoute() throws {
        let source = try makeTable()
        try source.add("twice", tunnel: "t1", as: alice)
        let first = source.list(as: root).routes
        try source.add("twice", tunnel: "t2", as: alice, replace: true)
        try source.add("once", tunnel: "t3", as: alice)
        let replica = try makeTable()
        replica.load(first + source.list(as: root).routes, revision: source.revision)
        #expect(replica.keys() == ["once.example.com", "twice.example.com"])
        #expect(replica.lookup(host: "twice.example.com")?.route.tunnel == (try TunnelID("t2")))
        #expect(replica.stats().total == 2)
        #expect(replica.stats().tunnels == 2)
    }

    @Test func aLoadedTableListsEveryRouteInKeyOrderPageByPageAndKeepsItsOrderThroughLaterChanges() throws {
        let source = try makeTable()
        var generator = SystemRandomNumberGenerator()
        // Names that share long prefixes (the sorted list's first twelve bytes tie, as they do
        // for `service-name-…`), wildcards, TCP ports and short names, added in no order.
        var names = (0..<1500).map { "app-\($0 * 7919 % 1500)" } + (0..<300).map { "*.w\($0).example.com" }
        names += (0..<200).map { "service-name-\($0 * 37 % 200)" } + ["service-name", "service-nam", "service"]
        names += (0..<200).map { _ in "x\(UInt64.random(in: 0..<1_000_000, using: &generator))" }
        names.shuffle(using: &generator)
        for name in Set(names) { try source.add(name, tunnel: "t1", as: alice) }
        for port in [49000, 49001, 49123] { try source.add("tcp:\(port)", tunnel: "t2", as: alice) }
        let replica = try makeTable()
        replica.load(source.list(as: root).routes.shuffled(using: &generator), revision: source.revision)
        func pages(_ table: RouteTable) -> [String] {
            var keys: [String] = []
            var after: String?
            repeat {
                let page = table.list(RouteQuery(after: after, limit: 97), as: root)
                keys += page.routes.map(\.key)
                after = page.routes.count == 97 ? page.routes.last?.key : nil
            } while after != nil
            return keys
        }
        let expected = source.list(as: root).routes.map(\.key)
        #expect(expected.count == Set(names).count + 3)
        #expect(pages(replica) == expected)
        #expect(pages(replica) == expected.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        try replica.add("app-750a", tunnel: "t3", as: alice)
        try replica.delete(try replica.key("app-3"), as: root)
        try source.add("app-750a", tunnel: "t3", as: alice)
        try source.delete(try source.key("app-3"), as: root)
        #expect(pages(replica) == source.list(as: root).routes.map(\.key))
    }

    @Test func draftedExpiryOfAnEndedSessionCanBeDraftedAgain() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        _ = table.replicate(table.draft([.add([try request(table, "s", tunnel: "t1", session: 5)], alice)]).events)
        table.noteSessionEnded(5, grace: .seconds(2))
        clock.advance(by: .seconds(3))
        let first = table.draft([.expireDue])
        #expect(first.events.map(\.kind) == [.expire])
        // Not committed (another daemon won the race, say): the next draft still expires it.
        let again = table.draft([.expireDue])
        #expect(again.events.map(\.kind) == [.expire])
        #expect(table.replicate(again.events) == .applied(revision: 2))
        #expect(table.keys().isEmpty)
    }
}
