import Foundation
import RouterTestSupport
import Testing

/// BIND 9 as routerd's secondary, as an operator runs routerd as a hidden primary: routerd sends
/// NOTIFY, BIND transfers the zone (AXFR at first, then IXFR) with TSIG, and answers the same as
/// routerd for every name asked of both. Skipped where named or dig is missing
/// (scripts/install-packages.sh test installs bind9 and bind9-dnsutils).
@Suite("BIND 9 as a secondary of routerd", .serialized)
struct DNSSecondaryTests {
    static let canRun = NamedProcess.isInstalled && Dig.isInstalled
    static let secret = "c2VjcmV0LWZvci1yb3V0ZXJkLXRlc3RzLTMyLWJ5dGVzISE="

    /// named as secondary for example.com from routerd at `primaryPort`.
    static func secondary(of primaryPort: Int, port: Int, secret: String = DNSSecondaryTests.secret) throws -> NamedProcess {
        try NamedProcess(port: port) { folder in
            NamedProcess.options(folder: folder, port: port) + """

                key "routerd" { algorithm hmac-sha256; secret "\(secret)"; };
                zone "example.com" {
                    type secondary;
                    primaries port \(primaryPort) { 127.0.0.1 key routerd; };
                    file "\(folder)/example.com.db";
                    allow-notify { 127.0.0.1; };
                };
                """
        }
    }

    /// routerd as the hidden primary: NOTIFY to the secondary's port, transfers with the key.
    final class Primary {
        let folder = makeTemporaryDirectory("primary-")
        let daemon: RouterdProcess
        let port: Int

        /// `dnsPort`: 0 for one the kernel picks, or the port an earlier primary had.
        init(notify: Int, dnsPort: Int = 0) throws {
            let keys = folder + "/tsig.key"
            try "key \"routerd\" {\n\talgorithm hmac-sha256;\n\tsecret \"\(DNSSecondaryTests.secret)\";\n};\n"
                .write(toFile: keys, atomically: true, encoding: .utf8)
            chmod(keys, 0o600)
            daemon = try RouterdProcess(["--domain", "example.com", "--dns", "127.0.0.1:\(dnsPort)", "--dns-address", "192.0.2.10",
                                         "--dns-ns", "ns1.example.com=192.0.2.53", "--dns-notify", "127.0.0.1:\(notify)",
                                         "--dns-transfer-allow", "127.0.0.1/32", "--dns-tsig-keys", keys, "--log-level", "info"])
            port = try daemon.dnsPort()
        }

        deinit {
            _ = try? daemon.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }

        func routerctl(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerctl", ["--socket", daemon.socket] + arguments, directory: folder).wait(timeout: 30)
        }
    }

    /// dig at `port`, names folded to lowercase (BIND writes a zone's own names as the zone
    /// has them; routerd echoes the question's case: both are right, RFC 4343).
    static func dig(_ port: Int, _ arguments: [String]) throws -> Dig.Answer {
        try Dig.ask(port: port, arguments, foldCase: true)
    }

    static func serial(_ port: Int) -> String? {
        guard let soa = try? dig(port, ["example.com", "SOA"]).answers.first else { return nil }
        return soa.split(separator: " ").dropFirst(6).first.map(String.init)
    }

    /// Starts the pair on free ports: named's is drawn and tried again if taken.
    static func startPair() throws -> (Primary, NamedProcess) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let primary = try Primary(notify: port)
            do {
                return (primary, try secondary(of: primary.port, port: port))
            } catch {
                lastError = error
            }
        }
        throw lastError ?? LaunchError("named did not start")
    }

    @Test(.enabled(if: canRun, "needs named (bind9) and dig (bind9-dnsutils)"))
    func bindFollowsByNotifyAndIXFRAndAnswersAsRouterdDoes() throws {
        let (primary, secondary) = try Self.startPair()
        // The first transfer: named has the zone at routerd's serial.
        #expect(eventually(timeout: 30) { Self.serial(secondary.port) != nil && Self.serial(secondary.port) == Self.serial(primary.port) },
                "named loads the zone: \(secondary.process.stderr.suffix(3000))")
        // An add reaches named by NOTIFY and an incremental transfer.
        #expect(try primary.routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
        #expect(eventually(timeout: 30) { (try? Self.dig(secondary.port, ["app.example.com", "A"]).answers) == ["app.example.com. 30 in a 192.0.2.10"] },
                "\(secondary.process.stderr.suffix(3000))")
        #expect(primary.daemon.process.stderr.contains("DNS: IXFR of example.com to 127.0.0.1"),
                "an incremental transfer: \(primary.daemon.process.stderr.suffix(3000))")
        // A delete disappears there too.
        #expect(try primary.routerctl(["delete", "app.example.com"]).status == 0)
        #expect(eventually(timeout: 30) { (try? Self.dig(secondary.port, ["app.example.com", "A"]).status) == "NXDOMAIN" })

        // Then the same questions to both: every answer alike, RFC 4592 wildcards included.
        for key in ["web.example.com", "*.wild.example.com", "wild.example.com", "a.b.wild.example.com", "deep.x.y.example.com",
                    "*.apps.example.com", "one.team.apps.example.com", "tcp:49001"] {
            #expect(try primary.routerctl(["add", key, "--tunnel", "t1"]).status == 0, "\(key)")
        }
        #expect(eventually(timeout: 30) { Self.serial(secondary.port) == Self.serial(primary.port) })
        let names = ["example.com", "web.example.com", "nope.example.com", "wild.example.com", "x.wild.example.com",
                     "q.r.wild.example.com", "b.wild.example.com", "z.b.wild.example.com", "a.b.wild.example.com",
                     "c.a.b.wild.example.com", "y.example.com", "x.y.example.com", "deep.x.y.example.com", "q.deep.x.y.example.com",
                     "apps.example.com", "any.apps.example.com", "team.apps.example.com", "x.team.apps.example.com",
                     "one.team.apps.example.com", "two.one.team.apps.example.com", "*.wild.example.com", "*.b.wild.example.com",
                     "ns1.example.com", "WEB.Example.COM"]
        for name in names {
            for type in ["A", "AAAA", "TXT", "SOA", "NS"] {
                let ours = try Self.dig(primary.port, [name, type])
                let theirs = try Self.dig(secondary.port, [name, type])
                #expect(ours.status == theirs.status && ours.answers == theirs.answers,
                        "\(name) \(type): routerd \(ours.status) \(ours.answers), BIND \(theirs.status) \(theirs.answers)")
            }
        }
    }

    @Test(.enabled(if: canRun, "needs named (bind9) and dig (bind9-dnsutils)"))
    func transfersNeedTheKeyAndAnAllowedAddress() throws {
        let primary = try Primary(notify: 9)  // NOTIFY to a port nobody answers: retried, harmless
        #expect(try primary.routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
        let signed = try Self.dig(primary.port, ["-y", "hmac-sha256:routerd:\(Self.secret)", "example.com", "AXFR"])
        #expect(signed.output.contains("app.example.com.") && signed.output.contains("XFR size"), "\(signed.output)")
        let unsigned = try Self.dig(primary.port, ["example.com", "AXFR"])
        #expect(unsigned.output.contains("Transfer failed") && !unsigned.output.contains("app.example.com.\t"), "\(unsigned.output)")
        let wrong = try Self.dig(primary.port, ["-y", "hmac-sha256:routerd:d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc=", "example.com", "AXFR"])
        #expect(!wrong.output.contains("app.example.com.\t"), "\(wrong.output)")
        #expect(primary.daemon.process.stderr.contains("its TSIG signature does not check"), "\(primary.daemon.process.stderr.suffix(2000))")
    }

    /// An in-memory routerd starts its revisions again: restarted a few seconds after making
    /// more changes than that, its sequence alone would give a serial below the secondary's.
    /// It asks the secondary first and goes on above.
    @Test(.enabled(if: canRun, "needs named (bind9) and dig (bind9-dnsutils)"))
    func aRestartedInMemoryRoutedStillMovesTheSecondarysSerialForward() throws {
        var (primary, secondary) = try Self.startPair()
        let port = primary.port
        for i in 0..<60 { _ = try primary.routerctl(["add", "n\(i).example.com", "--tunnel", "t1"]) }
        #expect(eventually(timeout: 30) { Self.serial(secondary.port) != nil && Self.serial(secondary.port) == Self.serial(primary.port) })
        let before = Self.serial(secondary.port).flatMap { UInt32($0) } ?? 0
        _ = try primary.daemon.stop()
        primary = try Primary(notify: secondary.port, dnsPort: port)
        #expect(try primary.routerctl(["add", "after.example.com", "--tunnel", "t1"]).status == 0)
        #expect(eventually(timeout: 30) { (try? Self.dig(secondary.port, ["after.example.com", "A"]).answers.count) == 1 },
                "\(primary.daemon.process.stderr.suffix(2000))\n\(secondary.process.stderr.suffix(2000))")
        let after = Self.serial(secondary.port).flatMap { UInt32($0) } ?? 0
        #expect(after != before && (after &- before) < 0x8000_0000, "the serial went forward: \(before) → \(after)")
        #expect(try Self.dig(secondary.port, ["n1.example.com", "A"]).status == "NXDOMAIN", "the old instance's routes are gone")
    }

    /// A secondary whose key is not routerd's gets nothing: its queries are refused and it
    /// never holds the zone.
    @Test(.enabled(if: canRun, "needs named (bind9) and dig (bind9-dnsutils)"))
    func aSecondaryWithAnotherKeyIsRefused() throws {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let primary = try Primary(notify: port)
            let secondary: NamedProcess
            do {
                secondary = try Self.secondary(of: primary.port, port: port, secret: "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc=")
            } catch {
                lastError = error
                continue
            }
            #expect(try primary.routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
            // BIND asks (SOA, then a transfer) signed with its key: routerd refuses and says why.
            #expect(eventually(timeout: 30) { primary.daemon.process.stderr.contains("its TSIG signature does not check") },
                    "\(primary.daemon.process.stderr.suffix(2000))")
            let answer = try Self.dig(secondary.port, ["app.example.com", "A"])
            #expect(answer.status == "SERVFAIL" && answer.answers.isEmpty, "the secondary holds no zone: \(answer.output)")
            return
        }
        throw lastError ?? LaunchError("named did not start")
    }
}
