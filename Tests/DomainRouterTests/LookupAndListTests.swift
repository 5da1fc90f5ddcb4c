import Testing
@testable import DomainRouter

@Suite("Lookups and listing")
struct LookupAndListTests {
    @Test func exactBeatsWildcard() throws {
        let table = try makeTable()
        try table.add("*.foo.example.com", tunnel: "wild", as: alice)
        try table.add("a.foo.example.com", tunnel: "exact", as: alice)
        let hit = try #require(table.lookup(host: "a.foo.example.com"))
        #expect(hit.match == .exact)
        #expect(hit.route.tunnel.rawValue == "exact")
        #expect(table.lookup(host: "b.foo.example.com")?.route.tunnel.rawValue == "wild")
    }

    @Test func mostSpecificWildcardWinsAtAnyDepth() throws {
        let table = try makeTable()
        try table.add("*.example.com", tunnel: "catch-all", as: root)
        try table.add("*.foo.example.com", tunnel: "foo", as: alice)
        try table.add("*.b.foo.example.com", tunnel: "b", as: alice)
        #expect(table.lookup(host: "x.y.z.b.foo.example.com")?.via == "*.b.foo.example.com")
        #expect(table.lookup(host: "c.foo.example.com")?.via == "*.foo.example.com")
        #expect(table.lookup(host: "deep.c.foo.example.com")?.via == "*.foo.example.com")
        #expect(table.lookup(host: "bar.example.com")?.via == "*.example.com")
        #expect(table.lookup(host: "example.com") == nil)
    }

    @Test func hostHeaderAndSNIFormsFindTheSameRoute() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        for form in ["foo.example.com", "FOO.Example.COM:8080", "foo.example.com.", "foo.example.com.:443",
                     " foo.example.com\t", "foo.example.com:"] {
            #expect(table.lookup(host: form)?.route.key == "foo.example.com", "\(form)")
        }
        #expect(table.lookup(host: "Foo.example.com", source: .sni)?.route.key == "foo.example.com")
        #expect(table.lookup(host: "foo.example.com:443", source: .sni) == nil)
    }

    @Test func anSNIWithATrailingDotNeverRoutes() throws {
        let table = try makeTable()
        try table.add("foo", tunnel: "t1", as: alice)
        #expect(table.lookup(host: "foo.example.com.", source: .sni) == nil)
        #expect(table.lookup(host: "Foo.example.com.", source: .sni) == nil)
        let miss = routeError { _ = try table.resolve(host: "foo.example.com.", source: .sni) }
        #expect(miss?.description.contains("RFC 6066") == true, "\(String(describing: miss))")
    }

    @Test func spoofedHostHeadersMatchNothing() throws {
        let table = try makeTable()
        try table.add("*.example.com", tunnel: "catch-all", as: root)
        for spoof in ["127.0.0.1", "[::1]:443", "2130706433", "a@foo.example.com", "foo.example.com/x",
                      "foo%2eexample.com", "", "evil.com", "foo.example.com.evil.com", "foo .example.com",
                      "foo.example.com\r"] {
            #expect(table.lookup(host: spoof) == nil, "\(spoof)")
        }
    }

    @Test func resolveExplainsAMiss() throws {
        let table = try makeTable()
        let miss = routeError { _ = try table.resolve(host: "Nope.Example.com:80") }
        #expect(miss == .notFound("no route for nope.example.com"))
        let literal = routeError { _ = try table.resolve(host: "127.0.0.1:80") }
        #expect(literal?.code == .notFound)
        #expect(literal!.description.contains("IP address literal"))
    }

    @Test func unicodeHostFindsItsALabelRoute() throws {
        let table = try makeTable()
        try table.add("bücher", tunnel: "t1", as: alice)
        #expect(table.lookup(host: "XN--BCHER-KVA.example.com:443")?.route.key == "xn--bcher-kva.example.com")
        #expect(table.lookup(host: "xn--bcher-kva.example.com", source: .sni)?.match == .exact)
        // A key, as a person types it, keeps the friendly Unicode form.
        #expect(try table.lookup(key: table.key("BÜCHER.example.com")).route.key == "xn--bcher-kva.example.com")
    }

    @Test func rawUnicodeInAHostOrSNIValueNeverRoutes() throws {
        let table = try makeTable()
        try table.add("bücher", tunnel: "t1", as: alice)
        #expect(table.lookup(host: "BÜCHER.example.com") == nil)
        #expect(table.lookup(host: "bücher.example.com:443") == nil)
        #expect(table.lookup(host: "bücher.example.com", source: .sni) == nil)
        let miss = routeError { _ = try table.resolve(host: "bücher.example.com") }
        #expect(miss?.description.contains("A-labels") == true, "\(String(describing: miss))")
    }

    @Test func lookupByTCPPortAndWildcardKey() throws {
        let table = try makeTable()
        try table.add("tcp:49001", tunnel: "t1", as: alice)
        try table.add("*.w.example.com", tunnel: "t2", as: alice)
        #expect(try table.lookup(key: .tcp(49001)).route.tunnel.rawValue == "t1")
        #expect(try table.lookup(key: .wildcard("w.example.com")).match == .wildcard)
        #expect(routeError { _ = try table.lookup(key: .tcp(49002)) }?.code == .notFound)
    }

    @Test func tunnelLookupReturnsItsRoutes() throws {
        let table = try makeTable()
        try table.add("b", tunnel: "t1", as: alice, ttl: .seconds(30))
        try table.add("a", tunnel: "t1", as: alice, ttl: .seconds(60))
        try table.add("tcp:49000", tunnel: "t1", as: alice, ttl: .seconds(10))
        let info = try table.tunnel(TunnelID("t1"))
        #expect(info.owner == "alice")
        #expect(info.routes.map(\.key) == ["a.example.com", "b.example.com", "tcp:49000"])
        #expect(info.expiresAt == info.routes[0].expiresAt)
        try table.add("c", tunnel: "t1", as: alice)
        #expect(try table.tunnel(TunnelID("t1")).expiresAt == nil)
    }

    @Test func deletingATunnelRemovesAllItsRoutesOneEventEach() throws {
        let table = try makeTable()
        try table.add("a", tunnel: "t1", as: alice)
        try table.add("b", tunnel: "t1", as: alice)
        try table.add("c", tunnel: "t2", as: alice)
        let start = table.revision
        let gone = try table.delete(.tunnel(TunnelID("t1")), as: alice)
        #expect(gone.map(\.key) == ["a.example.com", "b.example.com"])
        let events = try table.events(from: start + 1)
        #expect(events.map(\.kind) == [.delete, .delete])
        #expect(events.map(\.revision) == [start + 1, start + 2])
        #expect(table.keys() == ["c.example.com"])
    }

    @Test func deletingWhatIsNotThereIsNotFound() throws {
        let table = try makeTable()
        #expect(routeError { try table.delete(.host("nope.example.com"), as: alice) }?.code == .notFound)
        #expect(routeError { try table.delete(.tunnel(TunnelID("nope")), as: alice) }?.code == .notFound)
    }

    @Test func listIsSortedAndPaged() throws {
        let table = try makeTable()
        let names = (0..<2000).map { "n" + String(String(10000 + $0).dropFirst()) }
        for name in names.shuffled() { try table.add(name, as: alice) }
        var seen: [String] = []
        var after: String?
        repeat {
            let page = table.list(RouteQuery(after: after, limit: 333), as: root)
            seen += page.routes.map(\.key)
            after = page.next
        } while after != nil
        #expect(seen == names.map { $0 + ".example.com" })
    }

    @Test func listFiltersByPrefixTunnelOwnerKindAndLabel() throws {
        let table = try makeTable()
        try table.add("app1", tunnel: "t1", as: alice, labels: ["env": "prod"])
        try table.add("app2", tunnel: "t1", as: alice, labels: ["env": "dev"])
        try table.add("blog", tunnel: "t2", as: bob)
        try table.add("tcp:49010", tunnel: "t2", as: bob)
        try table.add("*.w.example.com", tunnel: "t3", as: alice)
        #expect(table.list(RouteQuery(prefix: "app"), as: root).routes.map(\.key) == ["app1.example.com", "app2.example.com"])
        #expect(table.list(RouteQuery(tunnel: try TunnelID("t2")), as: root).routes.map(\.key) == ["blog.example.com", "tcp:49010"])
        #expect(table.list(RouteQuery(owner: "bob"), as: root).routes.count == 2)
        #expect(table.list(RouteQuery(kind: .tcp), as: root).routes.map(\.key) == ["tcp:49010"])
        #expect(table.list(RouteQuery(kind: .wildcard), as: root).routes.map(\.key) == ["*.w.example.com"])
        #expect(table.list(RouteQuery(labels: ["env": "prod"]), as: root).routes.map(\.key) == ["app1.example.com"])
        #expect(table.list(RouteQuery(prefix: "app", after: "app1.example.com"), as: root).routes.map(\.key) == ["app2.example.com"])
    }

    @Test func usersListOnlyTheirOwnRoutes() throws {
        let table = try makeTable()
        try table.add("mine", as: alice)
        try table.add("theirs", as: bob)
        #expect(table.keys(as: alice) == ["mine.example.com"])
        #expect(table.list(RouteQuery(owner: "bob"), as: alice).routes.map(\.key) == ["mine.example.com"])
    }

    @Test func anotherOwnersTargetIsRedactedForUsers() throws {
        let table = try makeTable()
        let route = try table.add("gw", as: root, target: "10.0.0.5:8080", labels: ["team": "x"]).route
        #expect(route.redacted(for: alice).target == nil)
        #expect(route.redacted(for: alice).labels.isEmpty)
        #expect(route.redacted(for: root).target?.description == "10.0.0.5:8080")
        #expect(route.redacted(for: .user("root")).target != nil)
    }
}
