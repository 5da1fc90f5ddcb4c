import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// Namespaces end to end: real Unix users and a group made for the test, each driving
/// routerctl as themselves against one routerd whose configuration file holds the namespaces.
@Suite("Namespaces over the socket, as real users", .serialized)
struct NamespaceSocketTests {
    static let canMakeUsers = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")

    /// Users and groups made for one test, removed when it ends.
    final class Accounts {
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        private(set) var users: [String] = []
        private(set) var groups: [String] = []

        func group(_ name: String) throws -> String {
            let group = "dr\(tag)\(name)"
            try run("/usr/sbin/groupadd", [group])
            groups.append(group)
            return group
        }

        func user(_ name: String, groups: [String] = []) throws -> String {
            let user = "dr\(tag)\(name)"
            try run("/usr/sbin/useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin"]
                    + (groups.isEmpty ? [] : ["--groups", groups.joined(separator: ",")]) + [user])
            users.append(user)
            return user
        }

        func run(_ tool: String, _ arguments: [String]) throws {
            let folder = makeTemporaryDirectory("acct-")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let done = try ChildProcess(tool, arguments, directory: folder).wait(timeout: 30)
            guard done.status == 0 else { throw LaunchError("\(tool) \(arguments): \(done.stderr)") }
        }

        deinit {
            for user in users { try? run("/usr/sbin/userdel", [user]) }
            for group in groups { try? run("/usr/sbin/groupdel", [group]) }
        }
    }

    /// routerd on a socket every user may reach, with `config` as its configuration file.
    final class Daemon {
        let folder = makeTemporaryDirectory("ns-")
        let config: String
        let daemon: RouterdProcess

        /// `arguments` may name files in the daemon's folder as `@/NAME`.
        init(config text: String, arguments: [String] = []) throws {
            let folder = self.folder
            let arguments = arguments.map { $0.hasPrefix("@/") ? folder + $0.dropFirst() : $0 }
            chmod(folder, 0o755)
            config = folder + "/routerd.yaml"
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            daemon = try RouterdProcess(["--config", config, "--socket-mode", "0666"] + arguments, socket: folder + "/r.sock")
        }

        deinit {
            _ = try? daemon.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }

        /// routerctl run as `user`.
        func routerctl(_ user: String, _ arguments: [String]) throws -> Finished {
            try start(user, arguments).wait(timeout: 30)
        }

        /// routerctl started as `user`, not waited for.
        func start(_ user: String, _ arguments: [String]) throws -> ChildProcess {
            try ChildProcess("/usr/sbin/runuser", ["-u", user, "--", productsDirectory + "/routerctl", "--socket", daemon.socket] + arguments,
                             environment: ["NO_COLOR": "1"], directory: folder)
        }
    }

    @Test(.enabled(if: canMakeUsers, "needs root, useradd and runuser"))
    func teamSharingUserIsolationQuotasAndTcpAutoAsRealUsers() throws {
        let accounts = Accounts()
        let web = try accounts.group("web")
        let staff = try accounts.group("staff")
        let alice = try accounts.user("alice")
        let bob = try accounts.user("bob", groups: [web])
        let carol = try accounts.user("carol", groups: [staff])
        let routerd = try Daemon(config: """
            domain: example.com
            namespaces:
              - name: web
                domains: [web.example.com]
                tcp-ports: 41000-41009
                members: {users: [\(alice)], groups: [\(web)]}
                quota: {routes: 3}
              - name: home
                kind: user
                template: "{user}.users.example.com"
                members: {groups: [\(staff)]}
            """)
        // The team: alice by name, bob by group; carol is no member.
        #expect(try routerd.routerctl(alice, ["add", "app.web.example.com", "--tunnel", "ta"]).status == 0)
        let outsider = try routerd.routerctl(carol, ["add", "x.web.example.com", "--tunnel", "tc"])
        #expect(outsider.status == 77 && outsider.stderr.contains("namespace web, which \(carol) is not a member of"), "\(outsider)")
        // bob sees alice's route in the team, and may renew it.
        #expect(try routerd.routerctl(bob, ["list", "-o", "name"]).stdout == "app.web.example.com\n")
        #expect(try routerd.routerctl(bob, ["list", "-n", "web", "-o", "name"]).stdout == "app.web.example.com\n")
        let notMine = try routerd.routerctl(bob, ["list", "--namespace", "home", "-o", "name"])
        #expect(notMine.status == 77 && notMine.stderr.contains("not a member of namespace home"), "\(notMine)")
        #expect(try routerd.routerctl(alice, ["set", "app.web.example.com", "--label", "env=prod"]).status == 0)
        let detail = try routerd.routerctl(bob, ["list", "-o", "json"])
        #expect(detail.stdout.contains(#""env":"prod""#), "a teammate sees the labels: \(detail.stdout)")
        #expect(!(try routerd.routerctl(carol, ["lookup", "app.web.example.com", "-o", "json"]).stdout.contains("prod")),
                "an outsider does not")
        #expect(try routerd.routerctl(bob, ["touch", "app.web.example.com", "--ttl", "1h"]).status == 0)
        // A bare label goes under the caller's only namespace.
        let bare = try routerd.routerctl(alice, ["add", "bare", "--tunnel", "ta", "-o", "name"])
        #expect(bare.status == 0 && bare.stdout == "bare.web.example.com\n", "\(bare)")
        #expect(try routerd.routerctl(alice, ["delete", "bare"]).status == 0)
        // tcp:auto draws from the namespace's range.
        let port = try routerd.routerctl(bob, ["add", "tcp:auto", "--tunnel", "tb", "-o", "name"])
        #expect(port.status == 0 && port.stdout.hasPrefix("tcp:4100"), "\(port)")
        // The namespace's quota of 3: the third route fits, the fourth is refused with exit 4.
        #expect(try routerd.routerctl(alice, ["add", "two.web.example.com", "--tunnel", "ta"]).status == 0)
        let over = try routerd.routerctl(alice, ["add", "three.web.example.com", "--tunnel", "ta", "-o", "json"])
        #expect(over.status == 4, "\(over)")
        #expect(over.stderr.contains(#""code":"quota_exceeded""#) && over.stderr.contains(#""namespace":"web""#)
                && over.stderr.contains(#""limit":"routes""#) && over.stderr.contains(#""quota":3"#) && over.stderr.contains(#""use":3"#),
                "\(over.stderr)")
        // Each sees the namespaces they belong to, with the use against the quota; root all.
        let shown = try routerd.routerctl(alice, ["namespaces"])
        #expect(shown.status == 0 && shown.stdout.split(separator: "\n").count == 2, "\(shown)")
        #expect(shown.stdout.contains("web") && shown.stdout.contains("team") && shown.stdout.contains("3/3")
                && shown.stdout.contains("@\(web)") && !shown.stdout.contains("home"), "\(shown.stdout)")
        let json = try routerd.routerctl(carol, ["namespaces", "-o", "json"])
        #expect(json.stdout.contains(#""name":"home""#) && json.stdout.contains(#""{user}.users.example.com""#)
                && !json.stdout.contains(#""name":"web""#), "\(json.stdout)")
        let all = try ChildProcess(productsDirectory + "/routerctl", ["--socket", routerd.daemon.socket, "namespaces", "-o", "name"],
                                   directory: routerd.folder).wait(timeout: 30)
        #expect(all.stdout.contains("web") && all.stdout.contains("home"), "an admin sees every namespace: \(all)")

        // The user namespace: carol's own subtree, nobody else's.
        #expect(try routerd.routerctl(carol, ["add", "app.\(carol).users.example.com", "--tunnel", "tc"]).status == 0)
        let theirs = try routerd.routerctl(carol, ["add", "x.\(alice).users.example.com", "--tunnel", "tc"])
        #expect(theirs.status == 77 && theirs.stderr.contains("\(alice)'s subtree"), "\(theirs)")
        #expect(try routerd.routerctl(alice, ["add", "y.\(alice).users.example.com", "--tunnel", "ta"]).status == 77)
        #expect(try routerd.routerctl(alice, ["list", "-o", "name"]).stdout.contains("app.\(carol)") == false)

        // A reload raises the quota: the fourth route fits now.
        try (try String(contentsOfFile: routerd.config, encoding: .utf8)).replacingOccurrences(of: "routes: 3", with: "routes: 4")
            .write(toFile: routerd.config, atomically: true, encoding: .utf8)
        routerd.daemon.process.signal(SIGHUP)
        #expect(eventually { routerd.daemon.process.stderr.contains("SIGHUP: namespaces in force: web, home") },
                "\(routerd.daemon.process.stderr)")
        #expect(try routerd.routerctl(alice, ["add", "three.web.example.com", "--tunnel", "ta"]).status == 0)
        // A reload lowers it below what is held: nothing is removed, adds are refused, and
        // `routerctl namespaces` flags it.
        try (try String(contentsOfFile: routerd.config, encoding: .utf8)).replacingOccurrences(of: "routes: 4", with: "routes: 2")
            .write(toFile: routerd.config, atomically: true, encoding: .utf8)
        routerd.daemon.process.signal(SIGHUP)
        #expect(eventually { routerd.daemon.process.stderr.components(separatedBy: "SIGHUP: namespaces in force").count == 3 })
        let lowered = try routerd.routerctl(alice, ["namespaces"])
        #expect(lowered.stdout.contains("4/2") && lowered.stdout.contains("OVER QUOTA"), "\(lowered.stdout)")
        #expect(try routerd.routerctl(alice, ["add", "four.web.example.com", "--tunnel", "ta"]).status == 4)
        #expect(try routerd.routerctl(bob, ["list", "-o", "name"]).stdout.split(separator: "\n").count == 4, "nothing was removed")
        // A broken namespaces key keeps everything as it was.
        try "domain: example.com\nnamespaces:\n  - name: web\n    domains: [web.example.com]\n    quota: {routes: lots}\n"
            .write(toFile: routerd.config, atomically: true, encoding: .utf8)
        routerd.daemon.process.signal(SIGHUP)
        #expect(eventually { routerd.daemon.process.stderr.contains("routes is a whole number, not 'lots'") })
        #expect(try routerd.routerctl(carol, ["add", "again.\(carol).users.example.com", "--tunnel", "tc"]).status == 0,
                "the home namespace is still in force")
    }

    @Test(.enabled(if: canMakeUsers, "needs root, useradd and runuser"))
    func lookupsWatchesAndHistoryShowACallerOnlyWhatTheirNamespacesShare() throws {
        let accounts = Accounts()
        let web = try accounts.group("web")
        let staff = try accounts.group("staff")
        let alice = try accounts.user("alice")
        let bob = try accounts.user("bob", groups: [web])
        let carol = try accounts.user("carol", groups: [staff])
        let dave = try accounts.user("dave", groups: [staff])
        let routerd = try Daemon(config: """
            domain: example.com
            namespaces:
              - name: web
                domains: [web.example.com]
                members: {users: [\(alice)], groups: [\(web)]}
              - name: home
                kind: user
                template: "{user}.users.example.com"
                members: {groups: [\(staff)]}
            """, arguments: ["--db", "@/state.db", "--allow-target", "127.0.0.0/8"])
        #expect(try routerd.routerctl(alice, ["add", "app.web.example.com", "--tunnel", "ta", "--target", "127.0.0.1:8080",
                                              "--label", "env=prod"]).status == 0)
        #expect(try routerd.routerctl(carol, ["add", "app.\(carol).users.example.com", "--tunnel", "tc", "--target", "127.0.0.1:9090"]).status == 0)
        #expect(try routerd.routerctl(dave, ["add", "free.example.com", "--tunnel", "td", "--target", "127.0.0.1:7070"]).status == 0)

        // Lookups: a teammate sees the route in full; a non-member is refused whether or not
        // the name is routed, by key and as a Host header alike.
        let teammate = try routerd.routerctl(bob, ["lookup", "app.web.example.com", "-o", "json"])
        #expect(teammate.status == 0 && teammate.stdout.contains("127.0.0.1:8080") && teammate.stdout.contains(#""env":"prod""#), "\(teammate)")
        for name in ["app.web.example.com", "nothing.web.example.com", "APP.Web.Example.com:443"] {
            let outsider = try routerd.routerctl(carol, ["lookup", name])
            #expect(outsider.status == 77 && outsider.stderr.contains("namespace web, which \(carol) is not a member of"), "\(name): \(outsider)")
        }
        let neighbour = try routerd.routerctl(dave, ["lookup", "app.\(carol).users.example.com"])
        #expect(neighbour.status == 77 && neighbour.stderr.contains("\(carol)'s subtree"), "\(neighbour)")
        #expect(try routerd.routerctl(carol, ["lookup", "app.\(carol).users.example.com", "-o", "json"]).stdout.contains("127.0.0.1:9090"))
        // Outside every namespace, the old rule: anyone looks up, another owner's target is hidden.
        let free = try routerd.routerctl(carol, ["lookup", "free.example.com", "-o", "json"])
        #expect(free.status == 0 && !free.stdout.contains("7070"), "\(free)")
        // A tunnel's routes in a namespace part the caller may not see are left out.
        let tunnel = try routerd.routerctl(dave, ["lookup", "uuid:tc", "-o", "json"])
        #expect(tunnel.status == 0 && !tunnel.stdout.contains("app.\(carol)"), "\(tunnel)")

        // Watches: bob sees his team's changes in full and nothing of carol's subtree.
        let watch = try routerd.start(bob, ["watch", "--count", "1", "-o", "json"])
        try watch.waitUntil("bob's watch is live") { watch.stdout.contains(#""type":"sync""#) }
        #expect(try routerd.routerctl(carol, ["add", "x.\(carol).users.example.com", "--tunnel", "tc"]).status == 0)
        #expect(try routerd.routerctl(alice, ["set", "app.web.example.com", "--target", "127.0.0.1:8081"]).status == 0)
        let seen = watch.wait(timeout: 30)
        #expect(seen.status == 0 && seen.stdout.contains("app.web.example.com") && seen.stdout.contains("127.0.0.1:8081")
                && !seen.stdout.contains(carol), "\(seen)")
        // watch -n: narrowed to one namespace; one the caller does not belong to is refused.
        let narrowed = try routerd.start(alice, ["watch", "-n", "web", "--count", "1", "-o", "json"])
        try narrowed.waitUntil("alice's watch is live") { narrowed.stdout.contains(#""type":"sync""#) }
        #expect(try routerd.routerctl(alice, ["add", "elsewhere.example.com", "--tunnel", "ta"]).status == 0)
        #expect(try routerd.routerctl(bob, ["add", "b.web.example.com", "--tunnel", "tb"]).status == 0)
        let inWeb = narrowed.wait(timeout: 30)
        #expect(inWeb.status == 0 && inWeb.stdout.contains("b.web.example.com") && !inWeb.stdout.contains("elsewhere"), "\(inWeb)")
        let refused = try routerd.routerctl(carol, ["watch", "-n", "web", "--count", "1"])
        #expect(refused.status == 77 && refused.stderr.contains("not a member of namespace web"), "\(refused)")
        let unknown = try routerd.routerctl(alice, ["watch", "--namespace", "nosuch", "--count", "1"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no namespace 'nosuch'"), "\(unknown)")

        // History: bob sees the changes alice made in the team, with their targets; carol's
        // and dave's stay theirs.
        let history = try routerd.routerctl(bob, ["history", "-o", "json"])
        #expect(history.status == 0 && history.stdout.contains("127.0.0.1:8081") && history.stdout.contains("b.web.example.com")
                && !history.stdout.contains(carol) && !history.stdout.contains("free.example.com"), "\(history)")
        let hers = try routerd.routerctl(carol, ["history", "-o", "json"])
        #expect(hers.status == 0 && hers.stdout.contains("app.\(carol)") && !hers.stdout.contains("web.example.com"), "\(hers)")
    }
}
