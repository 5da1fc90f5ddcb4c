import Foundation
import RouterTestSupport
import Testing

/// routerctl against routerd's HTTP API (`--url`): the same output and exit codes as on the
/// socket, bearer tokens, TLS, and what a remote failure exits with.
@Suite struct RemoteTests {
    /// The user these tests run as: on the socket its login name is the principal, so the HTTP
    /// token is given the same name (an admin, as the socket's own user is).
    static let me = String(cString: getpwuid(getuid())!.pointee.pw_name)
    static let adminToken = "admin-token-0123456789abcdef"
    static let bobToken = "bob-token-0123456789abcdef"

    /// A routerd serving the API on a free port, with tokens for this user (an admin) and bob.
    final class Remote {
        let daemon: Daemon
        let port: Int
        let tokens: String
        let home: String
        var url: String { "http://127.0.0.1:\(port)" }

        init(_ arguments: [String] = []) throws {
            home = makeTemporaryDirectory("remote-")
            tokens = home + "/tokens"
            try "\(RemoteTests.me) \(RemoteTests.adminToken) admin\nbob \(RemoteTests.bobToken)\n".write(toFile: tokens, atomically: false, encoding: .utf8)
            chmod(tokens, 0o600)
            // Port 0: the kernel picks a free one, which the log names (at notice).
            daemon = try Daemon(["--http", "127.0.0.1:0", "--http-tokens", tokens, "--log-level", "notice"] + arguments)
            port = try daemon.routerd.httpPort()
        }

        /// Runs routerctl with `--url` (given as ROUTER_URL) and `token` (as ROUTER_TOKEN).
        func run(_ arguments: [String], token: String? = RemoteTests.adminToken, stdin: String = "") -> Finished {
            var environment = ["ROUTER_URL": url, "NO_COLOR": "1"]
            if let token { environment["ROUTER_TOKEN"] = token }
            return daemon.run(arguments, stdin: stdin, environment: environment)
        }

        func stop() {
            daemon.stop()
            try? FileManager.default.removeItem(atPath: home)
        }
    }

    static func withRemote(_ arguments: [String] = [], _ body: (Remote) throws -> Void) throws {
        let remote = try Remote(arguments)
        defer { remote.stop() }
        try body(remote)
    }

    /// Commands, each with what it reads on stdin, run in order on a fresh daemon.
    static let script: [([String], String)] = [
        (["add", "foo", "--tunnel", "t1", "--target", "127.0.0.1:9000"], ""),
        (["add", "foo", "--tunnel", "t2"], ""),
        (["add", "bad_name!"], ""),
        (["add", "*.wild", "--tunnel", "t3", "--label", "env=prod"], ""),
        (["add", "foo", "--tunnel", "t2", "-o", "json"], ""),
        (["lookup", "foo.example.com"], ""),
        (["lookup", "X.Wild.example.com:8080", "-o", "wide"], ""),
        (["lookup", "--sni", "foo.example.com."], ""),
        (["lookup", "nope"], ""),
        (["lookup", "uuid:t3"], ""),
        (["list"], ""),
        (["list", "-o", "name", "--prefix", "foo"], ""),
        (["list", "--label", "env=prod", "-o", "wide"], ""),
        (["touch", "foo", "-q"], ""),
        (["touch", "nope"], ""),
        (["set", "foo", "--target", "10.0.0.9:80", "--label", "env=dev", "-o", "wide"], ""),
        (["set", "foo", "--no-target", "--no-labels", "-o", "json"], ""),
        (["set", "nope", "--label", "a=b"], ""),
        (["set", "foo"], ""),
        (["batch"], "add b1 --tunnel tb\nadd b2 --tunnel tb\nadd b1 --tunnel tc\ndelete nope\nfrobnicate\n"),
        (["batch", "--atomic"], "add c1 --tunnel tc\nadd b1 --tunnel tc\n"),
        (["batch", "--atomic", "-o", "json"], "add c1 --tunnel tc\nadd c2 --tunnel tc\n"),
        (["delete", "foo", "nope"], ""),
        (["delete", "uuid:tb"], ""),
        (["list", "-o", "name"], ""),
        (["shell"], "add s1 --tunnel ts\nlookup s1\nlist -o name\ndelete nope\n"),
    ]

    @Test func everyCommandAnswersOverHTTPAsItDoesOnTheSocket() throws {
        try withRouterd { local in
            try Self.withRemote { remote in
                for (arguments, stdin) in Self.script {
                    let onSocket = local.run(arguments, stdin: stdin, environment: ["NO_COLOR": "1"])
                    let overHTTP = remote.run(arguments, stdin: stdin)
                    let command = "routerctl " + arguments.joined(separator: " ")
                    #expect(overHTTP.status == onSocket.status, "\(command): \(overHTTP.stderr)")
                    #expect(Self.comparable(overHTTP.stdout) == Self.comparable(onSocket.stdout), "\(command)")
                    #expect(overHTTP.stderr == onSocket.stderr, "\(command)")
                }
            }
        }
    }

    /// Output with the times in route JSON (creation and change) left out: they are the only
    /// thing two daemons fed the same commands may not share.
    static func comparable(_ text: String) -> String {
        text.replacingOccurrences(of: #""(created_at|updated_at)":"[^"]*""#, with: "", options: .regularExpression)
    }

    @Test func aMissingWrongOrRevokedTokenExits77() throws {
        try Self.withRemote { remote in
            let none = remote.run(["list"], token: nil)
            #expect(none.status == 77 && none.stderr.contains("hint: routerctl sent no token: give --token-file FILE"), "\(none)")
            // routerd's own token list given as the token file: said so.
            let own = remote.run(["--token-file", remote.tokens, "list"], token: nil)
            #expect(own.status == 77 && own.stderr.contains("looks like routerd's --http-tokens file"), "\(own)")
            let wrong = remote.run(["list", "-o", "json"], token: "not-a-token-at-all-0123")
            #expect(wrong.status == 77 && wrong.stderr.contains(#""code":"unauthorized""#), "\(wrong)")
            #expect(remote.run(["list"], token: Self.bobToken).status == 0)
            try "\(Self.me) \(Self.adminToken) admin\n".write(toFile: remote.tokens, atomically: false, encoding: .utf8)
            remote.daemon.process.signal(SIGHUP)
            var revoked = Finished(status: -1, stdout: "", stderr: "")
            #expect(eventually { revoked = remote.run(["list"], token: Self.bobToken); return revoked.status == 77 }, "\(revoked)")
        }
    }

    @Test func aRefusalOfThePrincipalExits77() throws {
        try Self.withRemote { remote in
            #expect(remote.run(["add", "mine", "--tunnel", "t1"]).status == 0)
            let forbidden = remote.run(["delete", "mine"], token: Self.bobToken)
            #expect(forbidden.status == 77 && forbidden.stderr.contains("another owner"), "\(forbidden)")
            let onSocket = remote.daemon.run(["add", "other", "--tunnel", "t2"], environment: [:])
            #expect(onSocket.status == 0, "\(onSocket)")
        }
    }

    @Test func anUnreachableDaemonExits69() throws {
        let port = freeTCPPort()
        try withRouterd { d in
            let r = d.run(["lookup", "foo"], environment: ["ROUTER_URL": "http://127.0.0.1:\(port)", "ROUTER_TOKEN": Self.adminToken])
            #expect(r.status == 69 && r.stderr.contains("cannot reach routerd at http://127.0.0.1:\(port)"), "\(r)")
        }
    }

    @Test func aDaemonAtItsConnectionLimitExits69() throws {
        try Self.withRemote(["--max-connections", "1"]) { remote in
            // The launcher's own check of the socket, or the last try's connection, may still
            // hold the one connection a moment, and then the held one is refused instead: hold
            // a fresh one and try again until the lookup is the one refused.
            #expect(eventually { remote.run(["ping"]).status == 0 })
            var held: Int32 = -1
            defer { if held >= 0 { close(held) } }
            var full = Finished(status: -1, stdout: "", stderr: "")
            #expect(eventually {
                if held >= 0 { close(held) }
                held = connectTCP(port: remote.port)
                full = remote.run(["lookup", "foo"])
                return full.status == 69
            }, "\(full)")
            #expect(full.stderr.contains("503") || full.stderr.contains("connections"), "\(full)")
        }
    }

    @Test func watchStreamsEventsOverHTTPUntilCtrlC() throws {
        try Self.withRemote { remote in
            let watch = try remote.daemon.start(["watch", "-o", "json"],
                                                environment: ["ROUTER_URL": remote.url, "ROUTER_TOKEN": Self.adminToken])
            #expect(eventually { watch.stdout.contains(#""type":"sync""#) }, "\(watch.stderr)")
            #expect(remote.daemon.run(["add", "live", "--tunnel", "t1"]).status == 0)
            #expect(eventually { watch.stdout.contains(#""key":"live.example.com""#) }, "\(watch.stdout)")
            watch.signal(SIGINT)
            let done = watch.wait(timeout: 10)
            #expect(done.status == 0, "\(done)")
        }
    }

    @Test func aWatchEndedByRoutersShutdownExits69SayingSo() throws {
        try Self.withRemote { remote in
            let watch = try remote.daemon.start(["watch", "-o", "json"],
                                                environment: ["ROUTER_URL": remote.url, "ROUTER_TOKEN": Self.adminToken])
            #expect(eventually { watch.stdout.contains(#""type":"sync""#) }, "\(watch.stderr)")
            remote.daemon.process.signal(SIGTERM)
            let done = watch.wait(timeout: 15)
            #expect(done.status == 69 && done.stderr.contains("shutting down"), "\(done)")
        }
    }

    @Test func watchFromARevisionReplaysOverHTTP() throws {
        try Self.withRemote { remote in
            for name in ["r1", "r2", "r3"] { #expect(remote.run(["add", name, "--tunnel", "t1"]).status == 0) }
            let watch = try remote.daemon.start(["watch", "--from-revision", "2", "-o", "name"],
                                                environment: ["ROUTER_URL": remote.url, "ROUTER_TOKEN": Self.adminToken])
            #expect(eventually { watch.stdout == "r2.example.com\nr3.example.com\n" }, "\(watch.stdout)")
            watch.signal(SIGINT)
            #expect(watch.wait(timeout: 10).status == 0)
            let other = remote.run(["watch", "--from-revision", "1", "--instance", "0123456789abcdef"])
            #expect(other.status == 70 && other.stderr.contains("another daemon instance"), "\(other)")
        }
    }

    @Test func listOverHTTPPagesThroughEveryRoute() throws {
        try Self.withRemote { remote in
            let lines = (0..<2500).map { "add n\($0) --tunnel t\($0 % 7)" }.joined(separator: "\n") + "\n"
            let loaded = remote.run(["batch", "-q"], stdin: lines)
            #expect(loaded.status == 0, "\(loaded.stderr)")
            let all = remote.run(["list", "-o", "name"])
            #expect(all.stdout.split(separator: "\n").count == 2500)
            #expect(all.stdout == remote.daemon.run(["list", "-o", "name"]).stdout)
            let some = remote.run(["list", "-o", "name", "--limit", "1500"])
            #expect(some.stdout.split(separator: "\n").count == 1500)
        }
    }

    @Test func pingAndStatsSayWhereAndWhatOverHTTP() throws {
        try Self.withRemote { remote in
            let ping = remote.run(["ping"])
            #expect(ping.status == 0 && ping.stdout.hasPrefix("pong from routerd ") && ping.stdout.contains("at \(remote.url) "), "\(ping)")
            let stats = remote.run(["stats"])
            #expect(stats.status == 0 && stats.stdout.contains("connections:  0 socket, 1 HTTP"), "\(stats)")
        }
    }

    @Test func usageErrorsNameTheBadURLOrTokenFile() throws {
        try withRouterd { d in
            let scheme = d.run(["--url", "ftp://127.0.0.1:1", "list"])
            #expect(scheme.status == 64 && scheme.stderr.contains("not an http:// or https:// URL"), "\(scheme)")
            let both = d.run(["--url", "http://127.0.0.1:1", "--socket", d.socket, "list"])
            #expect(both.status == 64 && both.stderr.contains("--url and --socket"), "\(both)")
            let loose = d.directory + "/loose.token"
            try "secret-token-0123456789\n".write(toFile: loose, atomically: false, encoding: .utf8)
            chmod(loose, 0o644)
            let open = d.run(["--url", "http://127.0.0.1:1", "--token-file", loose, "list"])
            #expect(open.status == 64 && open.stderr.contains("chmod 600"), "\(open)")
            let stray = d.run(["--token-file", loose, "list"])
            #expect(stray.status == 64 && stray.stderr.contains("--token-file goes with --url"), "\(stray)")
        }
    }

    static let openssl = opensslPath

    @Test(.enabled(if: openssl != nil, "needs openssl"))
    func httpsNeedsTheCertificateTrustedWithCacert() throws {
        let dir = makeTemporaryDirectory("tls-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeTestCertificate(in: dir)
        try Self.withRemote(["--http-tls-cert", dir + "/cert.pem", "--http-tls-key", dir + "/key.pem"]) { remote in
            let url = "https://127.0.0.1:\(remote.port)"
            let environment = ["ROUTER_TOKEN": Self.adminToken]
            var trusted = Finished(status: -1, stdout: "", stderr: "")
            #expect(eventually {
                trusted = remote.daemon.run(["--url", url, "--cacert", dir + "/cert.pem", "add", "secure", "--tunnel", "t1"], environment: environment)
                return trusted.status == 0
            }, "\(trusted)")
            #expect(trusted.stdout.contains("secure.example.com"))
            let untrusted = remote.daemon.run(["--url", url, "lookup", "secure"], environment: environment)
            #expect(untrusted.status == 69 && untrusted.stderr.contains("TLS") && untrusted.stderr.contains("--cacert"), "\(untrusted)")
            let plain = remote.daemon.run(["--url", "https://localhost:\(remote.port)", "--cacert", dir + "/cert.pem", "lookup", "secure"],
                                          environment: environment)
            #expect(plain.status == 0, "the certificate names localhost too: \(plain)")
        }
    }
}
