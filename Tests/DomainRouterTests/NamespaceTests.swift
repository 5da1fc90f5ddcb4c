import Testing
@testable import DomainRouter

/// Namespaces on the table: who may add where, what members see and may change, quotas at
/// their limit and one past it, and a policy that changes under routes already there.
@Suite("Namespaces")
struct NamespaceTests {
    static let carol = Principal.user("carol")

    /// A team `web` (alice, bob; alice its admin) owning web.example.com and team.example.org
    /// (outside the base domain) with ports 41000-41009, and a user namespace `home`
    /// ({user}.users.example.com) for the group `staff` (carol).
    func makePolicy(quota: Namespace.Quota = Namespace.Quota(), memberQuota: Namespace.Quota = Namespace.Quota()) throws -> NamespacePolicy {
        try NamespacePolicy([
            Namespace(name: "web", kind: .team, domains: ["web.example.com", "team.example.org"], tcpPorts: 41000...41009,
                      users: ["bob"], admins: ["alice"], quota: quota, memberQuota: memberQuota),
            Namespace(name: "home", kind: .user, domains: ["users.example.com"], groups: ["staff"]),
        ], groupsOf: { $0 == "carol" ? ["staff"] : [] })
    }

    func table(_ policy: NamespacePolicy) throws -> RouteTable {
        let table = try makeTable()
        table.setNamespaces(policy)
        return table
    }

    func code(_ body: () throws -> Void) -> RouteError.Code? {
        do {
            try body()
            return nil
        } catch let error as RouteError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func overlappingNamespacesAreRefusedNamingBoth() throws {
        #expect(throws: RouteError.self) {
            try NamespacePolicy([
                Namespace(name: "a", kind: .team, domains: ["a.example.com"]),
                Namespace(name: "b", kind: .team, domains: ["x.a.example.com"]),
            ])
        }
        do {
            _ = try NamespacePolicy([
                Namespace(name: "a", kind: .team, domains: ["a.example.com"], tcpPorts: 100...200),
                Namespace(name: "b", kind: .team, domains: ["b.example.com"], tcpPorts: 200...300),
            ])
            Issue.record("overlapping port ranges are refused")
        } catch {
            #expect("\(error)".contains("'a'") && "\(error)".contains("'b'"), "\(error)")
        }
        #expect(throws: RouteError.self) { try NamespacePolicy([Namespace(name: "u", kind: .user, domains: ["a.com", "b.com"])]) }
    }

    @Test func teamMembersAddInsideEvenOutsideTheBaseDomainsAndOthersMayNot() throws {
        let table = try table(makePolicy())
        try table.add("app.web.example.com", tunnel: "t-bob", as: bob)
        try table.add("app.team.example.org", tunnel: "t-bob", as: bob)
        #expect(code { try table.add("x.web.example.com", tunnel: "t-carol", as: NamespaceTests.carol) } == .forbidden)
        // The namespace's own domain and its wildcard: its admins only.
        #expect(code { try table.add("web.example.com", tunnel: "t-bob", as: bob) } == .forbidden)
        #expect(code { try table.add("*.web.example.com", tunnel: "t-bob", as: bob) } == .forbidden)
        try table.add("*.web.example.com", tunnel: "t-alice", as: alice)
        // Outside every namespace, today's rules: a base-domain name is free for all.
        try table.add("free", tunnel: "t-carol", as: NamespaceTests.carol)
    }

    @Test func teamMembersSeeAndRenewEachOthersRoutesAndOnlyOwnersOrAdminsDelete() throws {
        let table = try table(makePolicy())
        try table.add("a.web.example.com", tunnel: "t-bob", as: bob, ttl: .seconds(60))
        try table.add("mine", tunnel: "t-bob", as: bob)
        let page = table.list(as: alice)
        #expect(page.routes.map(\.key) == ["a.web.example.com"], "a teammate's route in the namespace, not bob's others: \(page)")
        #expect(page.shared == ["a.web.example.com"], "shown in full to a teammate")
        #expect(table.list(as: NamespaceTests.carol).routes.isEmpty)
        _ = try table.touch(try table.key("a.web.example.com"), ttl: .seconds(120), as: alice)
        // alice administers web: she may delete bob's route there; a plain member may not.
        let policy = try NamespacePolicy([
            Namespace(name: "web", kind: .team, domains: ["web.example.com"], users: ["bob", "dave"], admins: ["alice"]),
        ])
        table.setNamespaces(policy)
        #expect(code { try table.delete(try table.key("a.web.example.com"), as: .user("dave")) } == .forbidden)
        _ = try table.touch(try table.key("a.web.example.com"), ttl: nil, as: .user("dave"))
        try table.delete(try table.key("a.web.example.com"), as: alice)
    }

    @Test func aUserNamespaceGivesEachMemberASubtreeNobodyElseMayTake() throws {
        let table = try table(makePolicy())
        let carol = NamespaceTests.carol
        try table.add("app.carol.users.example.com", tunnel: "t-carol", as: carol)
        try table.add("carol.users.example.com", tunnel: "t-carol", as: carol)
        #expect(code { try table.add("x.dave.users.example.com", tunnel: "t-carol", as: carol) } == .forbidden)
        #expect(code { try table.add("users.example.com", tunnel: "t-carol", as: carol) } == .forbidden)
        // bob is no member of home.
        #expect(code { try table.add("y.carol.users.example.com", tunnel: "t-bob", as: bob) } == .forbidden)
        // A random name goes under the caller's own subtree.
        let random = try table.add(AddRequest(.random(domain: nil), tunnel: try TunnelID("t-carol")), as: carol)
        #expect(random.route.key.hasSuffix(".carol.users.example.com"), "\(random.route.key)")
    }

    @Test func aBareLabelGoesUnderTheCallersOnlyNamespace() throws {
        let table = try table(makePolicy())
        #expect(try table.key("app", for: bob) == .host("app.web.example.com"))
        #expect(try table.key("app", for: NamespaceTests.carol) == .host("app.carol.users.example.com"))
        // No namespace (or an admin): under the only base domain, as before.
        #expect(try table.key("app", for: .user("dave")) == .host("app.example.com"))
        #expect(try table.key("app", for: root) == .host("app.example.com"))
        // Anything but a bare label is taken as written.
        #expect(try table.key("app.example.com", for: bob) == .host("app.example.com"))
        #expect(try table.key("tcp:41000", for: bob) == .tcp(41000))
        // A member of two namespaces: no single home, so the base domain.
        table.setNamespaces(try NamespacePolicy([
            Namespace(name: "a", kind: .team, domains: ["a.example.com"], users: ["bob"]),
            Namespace(name: "b", kind: .team, domains: ["b.example.com"], users: ["bob"]),
        ]))
        #expect(try table.key("app", for: bob) == .host("app.example.com"))
    }

    @Test func eachQuotaHoldsAtItsLimitAndRefusesOnePastItNamingItAndTheUse() throws {
        let table = try table(makePolicy(quota: Namespace.Quota(routes: 4, tcpPorts: 1), memberQuota: Namespace.Quota(routes: 2)))
        try table.add("a.web.example.com", tunnel: "t-bob", as: bob)
        try table.add("b.web.example.com", tunnel: "t-bob", as: bob)
        do {
            try table.add("c.web.example.com", tunnel: "t-bob", as: bob)
            Issue.record("bob's third route passes his quota of 2")
        } catch {
            #expect(error.code == .quotaExceeded)
            #expect(error.quota == QuotaExceeded(limit: "routes", namespace: "web", member: "bob", quota: 2, use: 2))
        }
        // Refreshing a route he holds does not count.
        try table.add("a.web.example.com", tunnel: "t-bob", as: bob, ttl: .seconds(30))
        try table.add("tcp:41000", tunnel: "t-alice", as: alice)
        do {
            try table.add("tcp:41001", tunnel: "t-alice", as: alice)
            Issue.record("a second TCP port passes the namespace's quota of 1")
        } catch {
            #expect(error.quota == QuotaExceeded(limit: "tcp_ports", namespace: "web", member: nil, quota: 1, use: 1))
        }
        try table.add("z.web.example.com", tunnel: "t-alice", as: alice)
        do {
            try table.add("y.team.example.org", tunnel: "t-alice", as: .user("bob2"))
            Issue.record("bob2 is no member")
        } catch {
            #expect(error.code == .forbidden)
        }
        do {
            try table.add("y.web.example.com", tunnel: "t-alice", as: alice)
            Issue.record("a fifth route passes the namespace's quota of 4")
        } catch {
            #expect(error.quota == QuotaExceeded(limit: "routes", namespace: "web", member: nil, quota: 4, use: 4))
            #expect("\(error)".contains("namespace web's quota of 4 routes is used up (4 held)"), "\(error)")
        }
        // Deleting one makes room (for bob, under his own quota again).
        try table.delete(try table.key("b.web.example.com"), as: bob)
        try table.add("y.web.example.com", tunnel: "t-bob", as: bob)
    }

    @Test func sessionRoutesHaveAQuotaOfTheirOwn() throws {
        let table = try table(makePolicy(quota: Namespace.Quota(sessionRoutes: 2)))
        func add(_ name: String, session: UInt64?) throws {
            _ = try table.add(AddRequest(.key(try table.key(name)), tunnel: try TunnelID("t-bob"), session: session), as: bob)
        }
        try add("a.web.example.com", session: 7)
        try add("b.web.example.com", session: 7)
        try add("c.web.example.com", session: nil)  // not a session route: not counted
        do {
            try add("d.web.example.com", session: 7)
            Issue.record("a third session route passes the quota of 2")
        } catch let error as RouteError {
            #expect(error.quota == QuotaExceeded(limit: "session_routes", namespace: "web", member: nil, quota: 2, use: 2))
            #expect("\(error)".contains("quota of 2 session routes is used up"), "\(error)")
        }
        // Refreshing one already bound does not count; binding the plain one would.
        try add("a.web.example.com", session: 7)
        #expect(code { try add("c.web.example.com", session: 7) } == .quotaExceeded)
        // The session's end (no grace) frees both.
        table.endSession(7, grace: .zero)
        try add("d.web.example.com", session: 8)
        #expect(table.namespaceUse().first?.sessionRoutes == 1)
    }

    @Test func theLongestTTLIsAQuotaToo() throws {
        let table = try table(makePolicy(memberQuota: Namespace.Quota(longestTTL: .seconds(3600))))
        try table.add("a.web.example.com", tunnel: "t-bob", as: bob, ttl: .seconds(3600))
        do {
            try table.add("b.web.example.com", tunnel: "t-bob", as: bob, ttl: .seconds(7200))
            Issue.record("a TTL past the longest is refused")
        } catch {
            #expect(error.quota == QuotaExceeded(limit: "ttl", namespace: "web", member: "bob", quota: 3600, use: 7200))
        }
        #expect(code { try table.add("c.web.example.com", tunnel: "t-bob", as: bob) } == .quotaExceeded, "no TTL at all is past it")
    }

    @Test func tcpAutoDrawsFromTheNamespacesRange() throws {
        let table = try table(makePolicy())
        for _ in 0..<5 {
            let added = try table.add(AddRequest(.tcpAuto, tunnel: try TunnelID("t-bob")), as: bob)
            let port = UInt16(added.route.key.dropFirst(4))!
            #expect((41000...41009).contains(port), "\(added.route.key)")
        }
    }

    @Test func anAtomicBatchCrossingAQuotaAppliesNothing() throws {
        let table = try table(makePolicy(quota: Namespace.Quota(routes: 2)))
        try table.add("a.web.example.com", tunnel: "t-bob", as: bob)
        let before = table.revision
        #expect(throws: BatchFailure.self) {
            try table.apply([
                .add(AddRequest(.key(try table.key("b.web.example.com")), tunnel: try TunnelID("t-bob"))),
                .add(AddRequest(.key(try table.key("c.web.example.com")), tunnel: try TunnelID("t-bob"))),
            ], as: bob)
        }
        #expect(table.revision == before)
        #expect(table.lookup(host: "b.web.example.com") == nil)
    }

    @Test func aNewPolicyKeepsRoutesItPutsOverQuotaButRefusesNewAdds() throws {
        let table = try table(makePolicy())
        for name in ["a", "b", "c"] { try table.add("\(name).web.example.com", tunnel: "t-bob", as: bob) }
        table.setNamespaces(try makePolicy(quota: Namespace.Quota(routes: 2)))
        #expect(table.list(as: root).routes.count == 3, "nothing is removed")
        let report = table.namespaceUse()
        #expect(report.first?.routes == 3 && report.first?.isOverQuota == true, "\(report)")
        #expect(report.first?.routesByOwner == ["bob": 3])
        #expect(code { try table.add("d.web.example.com", tunnel: "t-bob", as: bob) } == .quotaExceeded)
        // Without namespaces, today's rules again: web.example.com is open to all.
        table.setNamespaces(nil)
        try table.add("d.web.example.com", tunnel: "t-carol", as: NamespaceTests.carol)
    }

    @Test func whatACallerMayLookAtFollowsTheirNamespacesWhetherOrNotAnythingIsRouted() throws {
        let table = try table(makePolicy())
        let dave = Principal.user("dave")
        // A team's members and admins look anywhere in it; others nowhere in it.
        for key in ["app.web.example.com", "nothing.team.example.org", "tcp:41005"] {
            #expect(code { try table.checkVisible(try table.key(key), to: bob) } == nil, "\(key)")
            #expect(code { try table.checkVisible(try table.key(key), to: dave) } == .forbidden, "\(key)")
        }
        // A user namespace's member: their own subtree only.
        #expect(code { try table.checkVisible(try table.key("x.carol.users.example.com"), to: NamespaceTests.carol) } == nil)
        #expect(code { try table.checkVisible(try table.key("x.erin.users.example.com"), to: NamespaceTests.carol) } == .forbidden)
        #expect(code { try table.checkVisible(try table.key("users.example.com"), to: NamespaceTests.carol) } == .forbidden)
        // Host header values are read as a gateway reads them.
        #expect(code { try table.checkVisible(host: "APP.Web.Example.com:443", source: .hostHeader, to: dave) } == .forbidden)
        // Outside every namespace, and for admins, nothing is closed.
        #expect(code { try table.checkVisible(try table.key("free.example.com"), to: dave) } == nil)
        #expect(code { try table.checkVisible(try table.key("app.web.example.com"), to: root) } == nil)
        // What is shared in full: a team's domains and ports with its members; nothing with a
        // user namespace's members; nothing with admins, who see everything anyway.
        let shared = table.sharedArea(for: bob)
        #expect(shared == NamespaceArea(domains: ["web.example.com", "team.example.org"], ports: [41000...41009]))
        #expect(shared?.contains(key: "*.web.example.com") == true && shared?.contains(key: "tcp:41009") == true
                && shared?.contains(key: "xweb.example.com") == false && shared?.contains(key: "tcp:41010") == false)
        #expect(table.sharedArea(for: NamespaceTests.carol) == nil && table.sharedArea(for: root) == nil)
        #expect(code { _ = try table.area(ofNamespace: "web", for: dave) } == .forbidden)
        #expect(code { _ = try table.area(ofNamespace: "nosuch", for: root) } == .notFound)
    }

    @Test func theDigestTellsEveryRuleApartButNotOrderOrSpelling() throws {
        func digest(_ quota: Namespace.Quota = Namespace.Quota(), _ order: Bool = true) throws -> String {
            var namespaces = [
                Namespace(name: "web", kind: .team, domains: ["Web.Example.com"], users: ["bob"], quota: quota),
                Namespace(name: "home", kind: .user, domains: ["users.example.com"], groups: ["staff"]),
            ]
            if !order { namespaces.reverse() }
            return try NamespacePolicy(namespaces).digest
        }
        #expect(try digest() == digest(Namespace.Quota(), false))
        let quotas = [Namespace.Quota(routes: 1), Namespace.Quota(tcpPorts: 1), Namespace.Quota(sessionRoutes: 1),
                      Namespace.Quota(longestTTL: .seconds(60))]
        let digests = try Set(quotas.map { try digest($0) } + [digest()])
        #expect(digests.count == quotas.count + 1, "each quota changes the digest")
    }
}
