import Testing
@testable import DomainRouter

@Suite("Expiry: TTL, touch, sweep and session grace (manual clock)")
struct ExpiryTests {
    @Test func expiredRouteIsNeverReturnedEvenBeforeTheSweep() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("foo", tunnel: "t1", as: alice, ttl: .seconds(30))
        try table.add("tcp:49000", tunnel: "t1", as: alice, ttl: .seconds(30))
        clock.advance(by: .seconds(29))
        #expect(table.lookup(host: "foo.example.com") != nil)
        clock.advance(by: .seconds(1))
        #expect(table.lookup(host: "foo.example.com") == nil)
        #expect(routeError { _ = try table.lookup(key: .tcp(49000)) }?.code == .notFound)
        #expect(routeError { _ = try table.tunnel(TunnelID("t1")) }?.code == .notFound)
        #expect(table.keys().isEmpty)
        #expect(table.stats().total == 2) // not swept yet
    }

    @Test func aChurnOfRoutesWithATTLKeepsTheDeadlineHeapWithinTheTable() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("stays", as: alice, ttl: .seconds(600))
        for i in 0..<50_000 {
            try table.add("churn\(i % 7)", as: alice, ttl: .seconds(600))
            _ = try table.delete(try table.key("churn\(i % 7)"), as: alice)
        }
        // Before the bound, every deleted route kept a heap entry for its 600 s.
        let entries = table.state.read { $0.deadlines.count }
        #expect(entries <= 2 * 1 + 1024, "\(entries) deadline entries for 1 route")
        // The live route's deadline is still there, and still ends it.
        clock.advance(by: .seconds(600))
        #expect(table.sweep() == 1)
        #expect(table.keys().isEmpty)
    }

    @Test func sweepRemovesExpiredRoutesWithExpireEvents() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("a", as: alice, ttl: .seconds(10))
        try table.add("b", as: alice, ttl: .seconds(20))
        try table.add("c", as: alice)
        clock.advance(by: .seconds(10))
        #expect(table.sweep() == 1)
        clock.advance(by: .seconds(10))
        #expect(table.sweep() == 1)
        #expect(table.sweep() == 0)
        let events = try table.events(from: 4)
        #expect(events.map(\.kind) == [.expire, .expire])
        #expect(events.map(\.key) == ["a.example.com", "b.example.com"])
        #expect(events.map(\.revision) == [4, 5])
        #expect(table.keys() == ["c.example.com"])
    }

    @Test func touchRenewsByTheRoutesOwnTTL() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("foo", as: alice, ttl: .seconds(30))
        clock.advance(by: .seconds(20))
        let touched = try table.touch(.host("foo.example.com"), as: alice)
        #expect(touched.first?.expiresAt == clock.now().advanced(by: .seconds(30)))
        clock.advance(by: .seconds(20))
        #expect(table.sweep() == 0)
        #expect(table.lookup(host: "foo.example.com") != nil)
        clock.advance(by: .seconds(10))
        #expect(table.sweep() == 1)
    }

    @Test func touchWithATTLChangesIt() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("foo", as: alice, ttl: .seconds(30))
        try table.touch(.host("foo.example.com"), ttl: .seconds(5), as: alice)
        clock.advance(by: .seconds(5))
        #expect(table.sweep() == 1)
    }

    @Test func touchingATunnelRenewsAllItsRoutes() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("a", tunnel: "t1", as: alice, ttl: .seconds(10))
        try table.add("b", tunnel: "t1", as: alice, ttl: .seconds(10))
        clock.advance(by: .seconds(9))
        #expect(try table.touch(.tunnel(TunnelID("t1")), as: alice).count == 2)
        clock.advance(by: .seconds(9))
        #expect(table.sweep() == 0)
        #expect(table.stats().total == 2)
    }

    @Test func refreshingWithAShorterTTLExpiresEarlier() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("foo", tunnel: "t1", as: alice, ttl: .seconds(60))
        try table.add("foo", tunnel: "t1", as: alice, ttl: .seconds(5))
        clock.advance(by: .seconds(5))
        #expect(table.sweep() == 1)
    }

    @Test func anExpiredNameIsFreeForSomeoneElse() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("foo", tunnel: "t1", as: alice, ttl: .seconds(10))
        clock.advance(by: .seconds(10))
        let taken = try table.add("foo", tunnel: "t2", as: bob)
        #expect(taken.created)
        #expect(try table.events(from: 1).map(\.kind) == [.add, .expire, .add])
    }

    @Test func sessionRoutesGoAfterTheGraceNotBefore() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("s1", as: alice, session: 7)
        try table.add("s2", as: alice, session: 7)
        try table.add("other", as: alice, session: 8)
        try table.add("plain", as: alice)
        table.endSession(7, grace: .seconds(5))
        clock.advance(by: .milliseconds(4_999))
        #expect(table.sweep() == 0)
        #expect(table.lookup(host: "s1.example.com") != nil)
        clock.advance(by: .milliseconds(1))
        #expect(table.sweep() == 2)
        #expect(table.keys() == ["other.example.com", "plain.example.com"])
        #expect(try table.events(from: 5).map(\.kind) == [.expire, .expire])
    }

    @Test func resumingInsideTheGraceKeepsTheRoutes() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("s1", as: alice, session: 7)
        table.endSession(7, grace: .seconds(5))
        clock.advance(by: .seconds(3))
        #expect(table.resumeSession(7, as: 9) == 1)
        clock.advance(by: .seconds(10))
        #expect(table.sweep() == 0)
        #expect(table.lookup(host: "s1.example.com")?.route.session == 9)
        table.endSession(9, grace: .zero)
        #expect(table.keys().isEmpty)
    }

    @Test func resumingAfterTheGraceFindsNothing() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("s1", as: alice, session: 7)
        table.endSession(7, grace: .seconds(5))
        clock.advance(by: .seconds(5))
        #expect(table.resumeSession(7, as: 9) == 0)
        #expect(table.keys().isEmpty)
    }

    @Test func reAddingWithoutASessionUnbindsTheRoute() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("s1", tunnel: "t1", as: alice, session: 7)
        try table.add("s1", tunnel: "t1", as: alice)
        table.endSession(7, grace: .zero)
        #expect(table.keys() == ["s1.example.com"])
    }
}

@Suite("The expiry loop")
struct ExpiryLoopTests {
    @Test func runExpirySweepsOnItsOwnAndWatchersSeeTheExpiry() async throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock)
        try table.add("short", as: alice, ttl: .seconds(1))
        let events = try table.subscribe()
        let sweeper = Task { await table.runExpiry(every: .milliseconds(5)) }
        defer { sweeper.cancel() }
        clock.advance(by: .seconds(1))
        var iterator = events.makeAsyncIterator()
        #expect(try await iterator.next()?.kind == .sync)
        let expired = try await iterator.next()
        #expect(expired?.kind == .expire)
        #expect(expired?.key == "short.example.com")
        #expect(table.stats().total == 0)
    }
}
