import Testing
@testable import DomainRouter

@Suite("Adding routes: collisions, ownership, reserved names, base domains")
struct RouteTableAddTests {
    @Test func bareLabelGoesUnderTheOnlyBaseDomain() throws {
        let table = try makeTable()
        let result = try table.add("Foo", tunnel: "t1", as: alice)
        #expect(result.route.key == "foo.example.com")
        #expect(result.route.owner == "alice")
        #expect(result.created)
    }

    @Test func dottedNameIsNeverSuffixed() throws {
        let table = try makeTable()
        #expect(try table.key("foo.example.com") == .host("foo.example.com"))
        #expect(try table.key("foo.bar") == .host("foo.bar"))
    }

    @Test func bareLabelWithSeveralBaseDomainsAsksForTheFullName() throws {
        let table = try makeTable(domains: ["a.com", "b.com"])
        let error = routeError { _ = try table.key("foo") }
        guard case .ambiguousLabel? = error?.invalidName?.rule.kind else { Issue.record("\(String(describing: error))"); return }
        #expect(error?.code == .invalidName)
        #expect(error!.description.contains("foo.a.com") || error!.description.contains("foo.b.com"))
    }

    @Test func numericLabelUnderTheBaseIsAName() throws {
        let table = try makeTable()
        #expect(try table.key("2130706433") == .host("2130706433.example.com"))
        #expect(routeError { _ = try table.key("127.0.0.1") }?.code == .invalidName)
    }

    @Test func addWithoutTunnelGetsAFreshUUID() throws {
        let table = try makeTable()
        let a = try table.add("a", as: alice).route.tunnel.rawValue
        let b = try table.add("b", as: alice).route.tunnel.rawValue
        #expect(a != b)
        #expect(a.count == 36)
        #expect(a.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
    }

    @Test func sameOwnerSameTunnelIsAnIdempotentRefresh() throws {
        let table = try makeTable()
        let first = try table.add("foo", tunnel: "t1", as: alice)
        let second = try table.add("foo", tunnel: "t1", as: alice)
        #expect(!second.created)
        #expect(second.route.createRevision == first.route.createRevision)
        #expect(second.route.modRevision == first.revision + 1)
        #expect(table.stats().total == 1)
        #expect(try table.events(from: 1).map(\.kind) == [.add, .update])
    }

    @Test func differentTunnelIsAConflictEvenForTheOwner() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        let error = routeError { try table.add("foo", tunnel: "t2", as: alice) }
        #expect(error?.code == .conflict)
        #expect(error?.conflict?.isOwn == true)
        #expect(error?.conflict?.holder?.tunnel?.rawValue == "t1")
        #expect(error!.description.contains("--replace"))
    }

    @Test func replaceMovesTheOwnersKeyToAnotherTunnel() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        let moved = try table.add("foo", tunnel: "t2", as: alice, replace: true)
        #expect(moved.route.tunnel.rawValue == "t2")
        #expect(!moved.created)
        #expect(routeError { _ = try table.tunnel(TunnelID("t1")) }?.code == .notFound)
        #expect(try table.tunnel(TunnelID("t2")).routes.map(\.key) == ["foo.example.com"])
    }

    @Test func conflictHidesAnotherOwnersTunnelFromUsers() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "secret-tunnel", as: alice, ttl: .seconds(60))
        let error = routeError { try table.add("foo", tunnel: "t9", as: bob) }
        #expect(error?.code == .conflict)
        #expect(error?.conflict?.holder == nil)
        #expect(error!.description.contains("foo.example.com is taken"))
        #expect(!error!.description.contains("secret-tunnel"))
        #expect(!error!.description.contains("alice"))
    }

    @Test func conflictShowsHolderTunnelAndExpiryToAdmins() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "cli-abc", as: alice, ttl: .seconds(60))
        let error = routeError { try table.add("foo", tunnel: "t9", as: root) }
        let holder = try #require(error?.conflict?.holder)
        #expect(holder.owner == "alice")
        #expect(holder.tunnel?.rawValue == "cli-abc")
        #expect(holder.expiresAt != nil)
        #expect(error!.description.contains("taken by tunnel cli-abc (owner alice) until"))
    }

    @Test func replacingAnotherOwnersRouteIsForbidden() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("foo", tunnel: "t2", as: bob, replace: true) }?.code == .forbidden)
        #expect(try table.lookup(key: .host("foo.example.com")).route.tunnel.rawValue == "t1")
    }

    @Test func deletingOrTouchingAnotherOwnersRouteIsForbidden() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        #expect(routeError { try table.delete(.host("foo.example.com"), as: bob) }?.code == .forbidden)
        #expect(routeError { try table.touch(.host("foo.example.com"), as: bob) }?.code == .forbidden)
        #expect(routeError { try table.delete(.tunnel(TunnelID("t1")), as: bob) }?.code == .forbidden)
        #expect(table.stats().total == 1)
    }

    @Test func adminsStillNeedReplaceToTakeAKeyOver() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("foo", tunnel: "gw", as: root) }?.code == .conflict)
        let taken = try table.add("foo", tunnel: "gw", as: root, replace: true)
        #expect(taken.route.owner == "root")
    }

    @Test func usingAnotherOwnersTunnelIsForbidden() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("bar", tunnel: "t1", as: bob) }?.code == .forbidden)
    }

    @Test func adminAddingToAUsersTunnelActsForThatUser() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        let added = try table.add("bar", tunnel: "t1", as: root)
        #expect(added.route.owner == "alice")
        #expect(routeError { try table.add("baz", tunnel: "t1", as: root, owner: "bob") }?.code == .forbidden)
    }

    @Test func adminMayAddForAnotherOwnerButUsersMayNot() throws {
        let table = try makeTable()
        #expect(try table.add("foo", as: root, owner: "carol").route.owner == "carol")
        #expect(routeError { try table.add("bar", as: alice, owner: "carol") }?.code == .forbidden)
    }

    // MARK: Subtrees

    @Test func nameBelowAnotherOwnersRouteIsAConflict() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        let error = routeError { try table.add("x.foo.example.com", as: bob) }
        #expect(error?.conflict?.relation == .above)
        #expect(error?.conflict?.heldKey == "foo.example.com")
        #expect(error!.description.contains("inside foo.example.com"))
    }

    @Test func nameBelowAnotherOwnersWildcardIsAConflict() throws {
        let table = try makeTable()
        try table.add("*.foo.example.com", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("a.b.foo.example.com", as: bob) }?.conflict?.heldKey == "*.foo.example.com")
        #expect(routeError { try table.add("foo.example.com", as: bob) }?.conflict?.relation == .below)
    }

    @Test func nameAboveAnotherOwnersRouteIsAConflict() throws {
        let table = try makeTable()
        try table.add("x.foo.example.com", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("foo.example.com", as: bob) }?.conflict?.relation == .below)
        #expect(routeError { try table.add("*.foo.example.com", as: bob) }?.conflict?.relation == .below)
        // Deep below, too.
        try table.add("a.b.c.bar.example.com", tunnel: "t1", as: alice)
        #expect(routeError { try table.add("bar.example.com", as: bob) }?.code == .conflict)
        #expect(routeError { try table.add("*.c.bar.example.com", as: bob) }?.code == .conflict)
    }

    @Test func ownerMayFillTheirOwnSubtree() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        try table.add("*.foo.example.com", tunnel: "t1", as: alice)
        try table.add("x.foo.example.com", tunnel: "t2", as: alice)
        #expect(table.stats().total == 3)
    }

    @Test func subtreeFreesUpWhenTheRouteGoes() throws {
        let table = try makeTable()
        try table.add("x.foo.example.com", tunnel: "t1", as: alice)
        try table.delete(.host("x.foo.example.com"), as: alice)
        try table.add("foo", tunnel: "t2", as: bob)
    }

    @Test func siblingsDoNotConflict() throws {
        let table = try makeTable()
        try table.add("foo", as: alice)
        try table.add("bar", as: bob)
        try table.add("x.baz.example.com", as: alice)
        try table.add("y.baz.example.com", as: alice)
        #expect(routeError { try table.add("z.baz.example.com", as: bob) } == nil)
    }

    @Test func adminsSkipSubtreeOwnership() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        try table.add("x.foo.example.com", tunnel: "gw", as: root)
    }

    @Test func wildcardNeverMatchesItsOwnParent() throws {
        let table = try makeTable()
        try table.add("*.foo.example.com", tunnel: "t1", as: alice)
        #expect(table.lookup(host: "foo.example.com") == nil)
        #expect(table.lookup(host: "a.foo.example.com")?.via == "*.foo.example.com")
    }

    // MARK: Base domains, reserved names, ports, targets

    @Test func usersMayNotAddNamesOutsideTheBaseDomains() throws {
        let table = try makeTable()
        let error = routeError { try table.add("shop.customer.org", as: alice) }
        #expect(error?.code == .forbidden)
        #expect(error!.description.contains("outside the base domains"))
    }

    @Test func adminsAddCustomDomainsThatRouteExactly() throws {
        let table = try makeTable()
        try table.add("shop.customer.org", tunnel: "t1", as: root)
        #expect(table.lookup(host: "shop.customer.org")?.match == .exact)
        #expect(table.lookup(host: "x.shop.customer.org") == nil)
        #expect(table.lookup(host: "customer.org") == nil)
    }

    @Test func usersMayNotAddTheBaseDomainOrItsWildcard() throws {
        let table = try makeTable()
        #expect(routeError { try table.add("example.com", as: alice) }?.code == .forbidden)
        #expect(routeError { try table.add("*.example.com", as: alice) }?.code == .forbidden)
        try table.add("*.example.com", tunnel: "catch-all", as: root)
    }

    @Test func wildcardsAboveABaseDomainAreRefusedForEveryone() throws {
        let table = try makeTable(domains: ["example.co.uk"])
        #expect(routeError { try table.add("*.co.uk", as: root) }?.code == .forbidden)
        #expect(routeError { try table.add("*.uk", as: root) }?.code == .forbidden)
    }

    @Test func reservedLabelsAreForAdminsOnly() throws {
        let table = try makeTable()
        let error = routeError { try table.add("www", as: alice) }
        #expect(error == .reserved(name: "www.example.com", label: "www"))
        #expect(routeError { try table.add("a.api.example.com", as: alice) }?.code == .reserved)
        #expect(routeError { try table.add("*.admin.example.com", as: alice) }?.code == .reserved)
        try table.add("www", as: root)
    }

    @Test func reservedLabelsCanBeReplaced() throws {
        let table = try makeTable { $0.reservedLabels = ["status"] }
        #expect(routeError { try table.add("status", as: alice) }?.code == .reserved)
        try table.add("www", as: alice)
    }

    @Test func usersStayInsideTheTCPPortRange() throws {
        let table = try makeTable()
        try table.add("tcp:49000", as: alice)
        let error = routeError { try table.add("tcp:22", as: alice) }
        #expect(error?.code == .outOfRange)
        #expect(error!.description.contains("49000-49999"))
        try table.add("tcp:22", as: root)
    }

    @Test func malformedTCPKeysAreInvalidNames() throws {
        let table = try makeTable()
        for text in ["tcp:0", "tcp:70000", "tcp:x", "tcp:", "tcp:-1", "tcp:80a"] {
            let error = routeError { _ = try table.key(text) }
            #expect(error?.code == .invalidName, "\(text): \(String(describing: error))")
            #expect(error?.description.contains("tcp:PORT with PORT from 1 to 65535") == true)
        }
    }

    @Test func tcpAutoPicksAFreePortInRange() throws {
        let table = try makeTable { $0.tcpPorts = 50000...50003 }
        var ports = Set<String>()
        for _ in 0..<4 { ports.insert(try table.add("tcp:auto", as: alice).route.key) }
        #expect(ports == ["tcp:50000", "tcp:50001", "tcp:50002", "tcp:50003"])
        #expect(routeError { try table.add("tcp:auto", as: alice) }?.code == .outOfRange)
    }

    @Test func randomNamesAreFreshAndUnreserved() throws {
        let table = try makeTable()
        var names = Set<String>()
        for _ in 0..<200 {
            let key = try table.add(AddRequest(.random(domain: nil)), as: alice).route.key
            let label = key.dropLast(".example.com".count)
            #expect(label.count == 10)
            #expect(label.allSatisfy { $0.isLowercase || $0.isNumber })
            names.insert(key)
        }
        #expect(names.count == 200)
    }

    @Test func randomNamesGiveUpWithAClearErrorWhenNoneAreFree() throws {
        let table = try makeTable { $0.randomLength = 1; $0.randomAttempts = 8 }
        for c in "abcdefghijklmnopqrstuvwxyz0123456789" { try table.add(String(c), as: root) }
        let error = routeError { _ = try table.add(AddRequest(.random(domain: nil)), as: alice) }
        #expect(error?.code == .outOfRange)
        #expect(error!.description.contains("8 random draws"))
        #expect(table.stats().total == 36)
    }

    @Test func randomNamesUnderAnUnknownDomainAreRefused() throws {
        let table = try makeTable()
        let error = routeError { _ = try table.add(AddRequest(.random(domain: "other.com")), as: alice) }
        #expect(error?.code == .badRequest)
        #expect(error!.description.contains("not a base domain"))
    }

    @Test func usersMayNotSetTargetsOutsideAllowedRanges() throws {
        let table = try makeTable { $0.allowedTargets = [try! CIDR("10.0.0.0/8")] }
        try table.add("ok", as: alice, target: "10.1.2.3:8080")
        #expect(routeError { try table.add("lo", as: alice, target: "127.0.0.1:22") }?.code == .forbidden)
        #expect(routeError { try table.add("meta", as: alice, target: "169.254.169.254:80") }?.code == .forbidden)
        #expect(routeError { try table.add("name", as: alice, target: "internal.host:80") }?.code == .forbidden)
        #expect(routeError { try table.add("sock", as: alice, target: "unix:/run/x.sock") }?.code == .forbidden)
        try table.add("gw", as: root, target: "unix:/run/x.sock")
        #expect(table.stats().total == 2)
    }

    @Test func malformedTargetsAreBadRequests() throws {
        for bad in ["nope", "host:", "host:0", "host:70000", "[::1:80", "unix:relative", "a b:80"] {
            #expect(routeError { _ = try RouteTarget(parsing: bad) }?.code == .badRequest, "\(bad)")
        }
        #expect(try RouteTarget(parsing: "[::1]:8080").description == "[::1]:8080")
        #expect(try RouteTarget(parsing: "Backend.Local:80").description == "backend.local:80")
    }

    @Test func tunnelIdsAreValidated() {
        #expect(routeError { _ = try TunnelID("") }?.code == .badRequest)
        #expect(routeError { _ = try TunnelID("has space") }?.code == .badRequest)
        #expect(routeError { _ = try TunnelID(String(repeating: "a", count: 129)) }?.code == .badRequest)
        #expect((try? TunnelID("Cli-abc_1.2")) != nil)
    }

    @Test func refusedAddsLeaveTheTableUnchanged() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        let before = (table.revision, table.keys(), table.stats())
        _ = routeError { try table.add("foo", tunnel: "t2", as: bob) }
        _ = routeError { try table.add("www", as: bob) }
        _ = routeError { try table.add("x.foo.example.com", as: bob) }
        _ = routeError { try table.add("tcp:1", as: bob) }
        _ = routeError { try table.add("bar", as: bob, labels: ["bad key": "v"]) }
        _ = routeError { try table.add("bar", as: bob, ttl: .zero) }
        #expect(table.revision == before.0)
        #expect(table.keys() == before.1)
        #expect(table.stats() == before.2)
    }
}
