import Testing
@testable import DomainRouter

@Suite("Revisions, history, compaction and subscriptions")
struct EventTests {
    @Test func everyChangeBumpsTheRevisionOnce() throws {
        let table = try makeTable()
        #expect(table.revision == 0)
        try table.add("a", tunnel: "t1", as: alice)
        try table.add("a", tunnel: "t1", as: alice)
        try table.add("b", tunnel: "t1", as: alice)
        try table.touch(.host("a.example.com"), as: alice)
        try table.delete(.tunnel(TunnelID("t1")), as: alice)
        #expect(table.revision == 6)
        let events = try table.events(from: 1)
        #expect(events.map(\.kind) == [.add, .update, .add, .update, .delete, .delete])
        #expect(events.map(\.revision) == Array(1...6))
        #expect(events[1].route?.modRevision == 2)
    }

    @Test func eventsFromIsInclusive() throws {
        let table = try makeTable()
        for name in ["a", "b", "c", "d"] { try table.add(name, as: alice) }
        #expect(try table.events(from: 3).map(\.revision) == [3, 4])
        #expect(try table.events(from: 5).isEmpty)
        #expect(try table.events(from: 0).count == 4)
    }

    @Test func historyBeyondTheRingIsCompacted() throws {
        let table = try makeTable { $0.historyLimit = 10 }
        for i in 0..<25 { try table.add("n\(i)", as: alice) }
        #expect(routeError { _ = try table.events(from: 1) } == .compacted(oldest: 16))
        #expect(routeError { _ = try table.events(from: 15) } == .compacted(oldest: 16))
        #expect(try table.events(from: 16).map(\.revision) == Array(16...25))
        #expect(try table.events(from: 26).isEmpty)
        #expect(routeError { _ = try table.events(from: 27) }?.code == .outOfRange)
        #expect(table.stats().oldestRevision == 16)
    }

    @Test func subscriptionReplaysThenSyncsThenGoesLive() async throws {
        let table = try makeTable()
        try table.add("a", as: alice)
        try table.add("b", as: alice)
        let subscription = try table.subscribe(from: 2)
        try table.add("c", as: alice)
        var iterator = subscription.makeAsyncIterator()
        let replayed = try await iterator.next()
        #expect(replayed?.kind == .add && replayed?.revision == 2)
        let sync = try await iterator.next()
        #expect(sync?.kind == .sync && sync?.revision == 2)
        let live = try await iterator.next()
        #expect(live?.key == "c.example.com" && live?.revision == 3)
        subscription.cancel()
        #expect(try await iterator.next() == nil)
    }

    @Test func subscriptionFromNowStartsWithSync() async throws {
        let table = try makeTable()
        try table.add("a", as: alice)
        let subscription = try table.subscribe()
        var iterator = subscription.makeAsyncIterator()
        #expect(try await iterator.next() == RouteEvent(kind: .sync, revision: 1, key: "", route: nil))
        subscription.cancel()
    }

    @Test func subscriptionFromACompactedRevisionIsRefused() throws {
        let table = try makeTable { $0.historyLimit = 2 }
        for i in 0..<5 { try table.add("n\(i)", as: alice) }
        #expect(routeError { _ = try table.subscribe(from: 1) } == .compacted(oldest: 4))
        #expect(table.stats().subscribers == 0)
    }

    @Test func slowSubscriberGetsOverflowNotASilentGap() async throws {
        let table = try makeTable()
        let subscription = try table.subscribe(bufferSize: 3)
        for i in 0..<10 { try table.add("n\(i)", as: alice) }
        var received: [RouteEvent.Kind] = []
        var failure: RouteError?
        do {
            for try await event in subscription { received.append(event.kind) }
        } catch {
            failure = error
        }
        #expect(received == [.sync, .add, .add, .add])
        #expect(failure == .overflow(capacity: 3))
        #expect(failure?.code == .slowConsumer)
        #expect(table.stats().subscribers == 0)
    }

    @Test func subscriptionFiltersByPrefixTunnelAndOwner() async throws {
        let table = try makeTable()
        let byPrefix = try table.subscribe(filter: EventFilter(prefix: "app"))
        let byOwner = try table.subscribe(filter: EventFilter(owner: "bob"))
        let byTunnel = try table.subscribe(filter: EventFilter(tunnel: try TunnelID("t1")))
        try table.add("app1", tunnel: "t1", as: alice)
        try table.add("blog", tunnel: "t2", as: bob)
        try table.add("app2", tunnel: "t2", as: bob)
        func keys(_ s: RouteSubscription, _ n: Int) async throws -> [String] {
            var out: [String] = []
            for try await e in s where e.kind != .sync {
                out.append(e.key)
                if out.count == n { break }
            }
            return out
        }
        #expect(try await keys(byPrefix, 2) == ["app1.example.com", "app2.example.com"])
        #expect(try await keys(byOwner, 2) == ["blog.example.com", "app2.example.com"])
        #expect(try await keys(byTunnel, 1) == ["app1.example.com"])
    }

    @Test func cancelledSubscribersAreNotCounted() throws {
        let table = try makeTable()
        let a = try table.subscribe()
        let b = try table.subscribe()
        #expect(table.stats().subscribers == 2)
        a.cancel()
        #expect(table.stats().subscribers == 1)
        withExtendedLifetime(b) {}
    }

    @Test func droppedSubscriptionsAreNotCounted() throws {
        let table = try makeTable()
        _ = try table.subscribe()
        #expect(table.stats().subscribers == 0)
    }
}
