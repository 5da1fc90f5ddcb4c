import Testing
@testable import DomainRouter

@Suite("Update: a route's target, labels and access rules changed in place")
struct UpdateTests {
    @Test func anUpdateChangesOnlyWhatItGivesWithOneEventAndKeepsTunnelAndExpiry() throws {
        let clock = ManualClock()
        let table = try makeTable(clock: clock) { $0.allowedTargets = [try! CIDR("10.0.0.0/8")] }
        let added = try table.add("app", tunnel: "t1", as: alice, ttl: .seconds(60), target: "10.0.0.1:80", labels: ["a": "1"]).route
        clock.advance(by: .seconds(10))
        let change = RouteChange(target: .some(try RouteTarget(parsing: "10.0.0.2:81")), labels: ["b": "2"], allow: [try CIDR("10.0.0.0/8")])
        let updated = try table.update(try table.key("app"), change, as: alice)
        #expect(updated.target?.description == "10.0.0.2:81" && updated.labels == ["b": "2"])
        #expect(updated.access.allow.map(\.description) == ["10.0.0.0/8"] && updated.access.deny.isEmpty)
        #expect(updated.tunnel == added.tunnel && updated.expiresAt == added.expiresAt && updated.createRevision == added.createRevision)
        #expect(updated.modRevision == added.modRevision + 1)
        let events = try table.events(from: added.modRevision + 1)
        #expect(events.map(\.kind) == [.update] && events.first?.route?.labels == ["b": "2"])
        // A field not given stays; a nil target takes it away.
        let cleared = try table.update(try table.key("app"), RouteChange(target: .some(nil)), as: alice)
        #expect(cleared.target == nil && cleared.labels == ["b": "2"] && cleared.access.allow.count == 1)
    }

    @Test func onlyTheOwnerOrAnAdminUpdatesAndAUsersTargetStaysInTheAllowedRanges() throws {
        let table = try makeTable { $0.allowedTargets = [try! CIDR("10.0.0.0/8")] }
        try table.add("app", tunnel: "t1", as: alice)
        let key = try table.key("app")
        #expect(routeError { _ = try table.update(key, RouteChange(labels: [:]), as: bob) }?.code == .forbidden)
        #expect(routeError { _ = try table.update(key, RouteChange(target: .some(try RouteTarget(parsing: "192.168.1.1:80"))), as: alice) }?.code == .forbidden)
        #expect(try table.update(key, RouteChange(target: .some(try RouteTarget(parsing: "192.168.1.1:80"))), as: root).target != nil,
                "an admin may point anywhere")
        #expect(routeError { _ = try table.update(try table.key("nothing"), RouteChange(labels: [:]), as: alice) }?.code == .notFound)
        #expect(routeError { _ = try table.update(key, RouteChange(), as: alice) }?.code == .badRequest)
        #expect(routeError { _ = try table.update(try table.key("uuid:t1"), RouteChange(labels: [:]), as: alice) }?.code == .badRequest)
        #expect(routeError { _ = try table.update(key, RouteChange(labels: ["bad key": "x"]), as: alice) }?.code == .badRequest)
    }
}
