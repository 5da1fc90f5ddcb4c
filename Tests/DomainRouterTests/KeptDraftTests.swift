import Testing
@testable import DomainRouter
import RouterTestSupport
import Synchronization

/// Drafts kept in the table while their store commits them (`draft(_:after:keep:)`): hidden
/// from every read until their events are replicated, built on by the next draft, taken out
/// when the store does not commit them.
@Suite("Kept drafts")
struct KeptDraftTests {
    func request(_ table: RouteTable, _ key: String, tunnel: String) throws -> AddRequest {
        AddRequest(.key(try table.key(key)), tunnel: try TunnelID(tunnel))
    }

    func kept(_ table: RouteTable) -> Int {
        table.state.read { $0.provisional.all.count }
    }

    @Test func aKeptDraftIsHiddenFromEveryReadUntilItsCommit() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice)
        let published = Mutex<[UInt64]>([])
        let handle = try table.subscribe { event in
            if event.kind != .sync { published.withLock { $0.append(event.revision) } }
            return true
        }
        defer { handle.cancel() }
        let statsBefore = table.stats()
        let draft = table.draft([.add([try request(table, "new", tunnel: "t1"), try request(table, "*.w.example.com", tunnel: "t1")], alice)],
                                keep: true)
        #expect(draft.events.map(\.revision) == [2, 3])
        #expect(kept(table) == 2)
        // Nothing of it can be read: not by name, key, tunnel, listing, counts or revision.
        #expect(table.lookup(host: "new.example.com") == nil)
        #expect(table.lookup(host: "x.w.example.com") == nil)
        #expect(!table.contains(try table.key("new")))
        #expect(throws: RouteError.self) { try table.lookup(key: try table.key("*.w.example.com")) }
        #expect(throws: RouteError.self) { try table.tunnel(try TunnelID("t1")) }
        #expect(table.list(as: root).routes.map(\.key) == ["old.example.com"])
        #expect(table.stats() == statsBefore)
        #expect(table.revision == 1)
        #expect(published.withLock { $0 }.isEmpty)

        // The next draft builds on it: the name is taken there, and revisions go on.
        let next = table.draft([.add([try request(table, "new", tunnel: "t2"), try request(table, "other", tunnel: "t2")], bob)],
                               after: draft.events, keep: true)
        guard case .added(let results) = next.outcomes[0] else {
            Issue.record("an add step answers added: \(next.outcomes[0])")
            return
        }
        #expect(throws: RouteError.self) { try results[0].get() }
        #expect(next.base == 3)
        #expect(next.events.map(\.revision) == [4])
        #expect(kept(table) == 3)

        // Committed, in order: visible and published, as the same adds made directly.
        #expect(table.replicate(draft.events) == .applied(revision: 3))
        #expect(table.lookup(host: "new.example.com")?.route.tunnel == (try TunnelID("t1")))
        #expect(table.lookup(host: "x.w.example.com")?.match == .wildcard)
        #expect(table.lookup(host: "other.example.com") == nil)
        #expect(table.replicate(next.events) == .applied(revision: 4))
        #expect(kept(table) == 0)
        let direct = try makeTable()
        try direct.add("old", tunnel: "t0", as: alice)
        _ = direct.add(each: [try request(direct, "new", tunnel: "t1"), try request(direct, "*.w.example.com", tunnel: "t1")], as: alice)
        try direct.add("other", tunnel: "t2", as: bob)
        #expect(table.list(as: root).routes.map(\.key) == direct.list(as: root).routes.map(\.key))
        #expect(table.stats().hosts == direct.stats().hosts)
        #expect(table.stats().tunnels == direct.stats().tunnels)
        #expect(published.withLock { $0 } == [2, 3, 4])
        #expect(try table.tunnel(try TunnelID("t1")).routes.count == 2)
    }

    @Test func anAbandonedKeptDraftLeavesTheTableAsItWas() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice)
        let before = table.list(as: root).routes
        let stats = table.stats()
        let first = table.draft([.add([try request(table, "a", tunnel: "t1"), try request(table, "b", tunnel: "t0")], alice)], keep: true)
        _ = table.draft([.add([try request(table, "c", tunnel: "t1")], alice)], after: first.events, keep: true)
        #expect(kept(table) == 3)
        table.abandonDrafts()
        #expect(kept(table) == 0)
        #expect(table.list(as: root).routes == before)
        #expect(table.stats() == stats)
        #expect(try table.tunnel(try TunnelID("t0")).routes.map(\.key) == ["old.example.com"])
        // The names are free again, and the revisions too.
        let again = table.draft([.add([try request(table, "a", tunnel: "t9")], bob)], keep: true)
        #expect(again.events.map(\.revision) == [2])
        #expect(table.replicate(again.events) == .applied(revision: 2))
        #expect(table.lookup(host: "a.example.com")?.route.owner == "bob")
        #expect(table.list(as: root).routes.map(\.key) == ["a.example.com", "old.example.com"])
    }

    @Test func anotherChangeAtAKeptDraftsRevisionTakesItOut() throws {
        // Another daemon's change reached the store first: the kept draft never will.
        let source = try makeTable()
        try source.add("old", tunnel: "t0", as: alice)
        try source.add("theirs", tunnel: "t5", as: bob)
        let events = try source.events(from: 1)
        let table = try makeTable()
        #expect(table.replicate([events[0]]) == .applied(revision: 1))
        let draft = table.draft([.add([try request(table, "mine", tunnel: "t1")], alice)], keep: true)
        #expect(draft.events.map(\.revision) == [2])
        #expect(table.replicate([events[1]]) == .applied(revision: 2))
        #expect(kept(table) == 0)
        #expect(table.lookup(host: "mine.example.com") == nil)
        #expect(table.list(as: root).routes.map(\.key) == ["old.example.com", "theirs.example.com"])
        // Its own commit arriving after that (it cannot, but say it did) is not applied twice.
        #expect(table.replicate(draft.events) == .applied(revision: 2))
        #expect(table.lookup(host: "mine.example.com") == nil)
    }

    @Test func onlyPlainAddsOfFreeKeysAreKept() throws {
        let table = try makeTable()
        try table.add("old", tunnel: "t0", as: alice)
        let before = table.list(as: root).routes
        for steps: [DraftStep] in [
            [.add([try request(table, "old", tunnel: "t0")], alice)],            // a refresh of a route
            [.add([try request(table, "n", tunnel: "t1")], alice), .delete(try table.key("old"), alice)],
            [.touch(try table.key("old"), ttl: .seconds(5), alice)],
            [.add([try request(table, "old", tunnel: "t0")], bob)],              // refused: nothing to keep
        ] {
            _ = table.draft(steps, keep: true)
            #expect(kept(table) == 0, "\(steps)")
            #expect(table.list(as: root).routes == before)
        }
    }

    @Test func aDraftOnAKeptOneThatChangesItPutsItBackHidden() throws {
        let table = try makeTable()
        let first = table.draft([.add([try request(table, "a", tunnel: "t1")], alice)], keep: true)
        // Drafted on the kept add, this deletes it; not kept (a delete), so rolled back.
        let second = table.draft([.delete(try table.key("a"), alice),
                                  .add([try request(table, "b", tunnel: "t1")], alice)], after: first.events, keep: true)
        #expect(second.events.map(\.kind) == [.delete, .add])
        #expect(kept(table) == 1)
        #expect(table.lookup(host: "a.example.com") == nil)
        #expect(table.list(as: root).routes.isEmpty)
        #expect(table.replicate(first.events + second.events) == .applied(revision: 3))
        #expect(table.list(as: root).routes.map(\.key) == ["b.example.com"])
        #expect(kept(table) == 0)
    }

    /// A writer under load keeps drafts in flight, so the kept runs never all commit at once:
    /// forty runs drafted ahead, committed in order while more are drafted, their events given
    /// back as drafted (the same arrays) or as copies (compared event by event).
    @Test func keptDraftsCommitInOrderWhetherTheirEventsComeAsDraftedOrAsCopies() throws {
        let table = try makeTable()
        var inFlight: [Draft] = []
        var committed = 0
        for n in 0..<60 {
            if n < 40 {
                let pending = inFlight.flatMap(\.events)
                inFlight.append(table.draft([.add([try request(table, "k\(n)", tunnel: "t\(n)")], alice)],
                                            after: pending, keep: true))
            }
            // Commits trail drafts by up to twenty runs, then catch up.
            guard inFlight.count > 20 || n >= 40, !inFlight.isEmpty else { continue }
            let oldest = inFlight.removeFirst()
            let events = committed % 2 == 0 ? oldest.events : oldest.events.map { $0 }
            #expect(table.replicate(events) == .applied(revision: UInt64(committed + 1)))
            committed += 1
            #expect(table.lookup(host: "k\(committed - 1).example.com") != nil)
            #expect(kept(table) == inFlight.count)
        }
        #expect(committed == 40)
        #expect(table.revision == 40)
        #expect(table.list(as: root).routes.count == 40)
    }
}
