import Foundation
import RouterTestSupport
import Testing

/// BIND 9 as an existing primary that routerd keeps in step by RFC 2136 UPDATE with TSIG:
/// records come and go with routes, records routerd did not create are left alone, and a
/// restart reconciles. Skipped where named or dig is missing.
@Suite("RFC 2136 updates to BIND 9 as the primary", .serialized)
struct DNSUpdateTests {
    static let canRun = NamedProcess.isInstalled && Dig.isInstalled
    static let secret = "dXBkYXRlLXNlY3JldC1mb3Itcm91dGVyZC10ZXN0cyEhIQ=="

    /// named as the primary of example.com, updatable with the key, holding a record made by
    /// hand (manual), a name server, and a record an earlier routerd left (stale).
    static func startPrimary() throws -> NamedProcess {
        let zone = """
            $TTL 300
            @       IN SOA ns1.example.com. hostmaster.example.com. 1 300 60 1209600 30
            @       IN NS  ns1.example.com.
            ns1     IN A   192.0.2.53
            manual  IN A   198.51.100.99
            stale   IN A   192.0.2.10
            stale   IN TXT "heritage=routerd,routerd/owner=routerd"
            """
        return try NamedProcess.start(files: ["example.com.db": zone]) { folder, port in
            NamedProcess.options(folder: folder, port: port) + """

                key "routerd" { algorithm hmac-sha256; secret "\(DNSUpdateTests.secret)"; };
                zone "example.com" {
                    type primary;
                    file "\(folder)/example.com.db";
                    allow-update { key routerd; };
                    allow-transfer { key routerd; };
                };
                """
        }
    }

    static func ask(_ primary: NamedProcess, _ name: String, _ type: String = "A") throws -> Dig.Answer {
        try Dig.ask(port: primary.port, [name, type], foldCase: true)
    }

    static func routerd(updating primary: NamedProcess, folder: String) throws -> RouterdProcess {
        let keys = folder + "/tsig.key"
        try "key \"routerd\" { algorithm hmac-sha256; secret \"\(secret)\"; };\n".write(toFile: keys, atomically: true, encoding: .utf8)
        chmod(keys, 0o600)
        return try RouterdProcess(["--domain", "example.com", "--dns", "127.0.0.1:0", "--dns-address", "192.0.2.10",
                                   "--dns-ns", "ns1.example.com=192.0.2.53", "--dns-update", "127.0.0.1:\(primary.port)",
                                   "--dns-tsig-keys", keys])
    }

    @Test(.enabled(if: canRun, "needs named (bind9) and dig (bind9-dnsutils)"))
    func recordsFollowRoutesAndOnlyRouterdsOwnAreTouched() throws {
        let primary = try Self.startPrimary()
        let folder = makeTemporaryDirectory("updater-")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var routerd = try Self.routerd(updating: primary, folder: folder)
        func routerctl(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerctl", ["--socket", routerd.socket] + arguments, directory: folder).wait(timeout: 30)
        }
        // Start-up reconciles: the stale record routerd made goes; the hand-made one stays.
        #expect(eventually(timeout: 30) { (try? Self.ask(primary, "stale.example.com").status) == "NXDOMAIN" },
                "\(routerd.process.stderr.suffix(2000))")
        #expect(try Self.ask(primary, "manual.example.com").answers == ["manual.example.com. 300 in a 198.51.100.99"])
        // Routes come and go on the primary, with their mark.
        #expect(try routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
        #expect(try routerctl(["add", "*.wild.example.com", "--tunnel", "t1"]).status == 0)
        #expect(eventually(timeout: 30) { (try? Self.ask(primary, "app.example.com").answers) == ["app.example.com. 30 in a 192.0.2.10"] })
        #expect(eventually(timeout: 30) { (try? Self.ask(primary, "x.wild.example.com").answers) == ["x.wild.example.com. 30 in a 192.0.2.10"] })
        #expect(try Self.ask(primary, "app.example.com", "TXT").answers == [#"app.example.com. 30 in txt "heritage=routerd,routerd/owner=routerd""#])
        // A routed name that has records routerd did not create is left alone.
        #expect(try routerctl(["add", "manual.example.com", "--tunnel", "t1"]).status == 0)
        #expect(try routerctl(["delete", "app.example.com"]).status == 0)
        #expect(eventually(timeout: 30) { (try? Self.ask(primary, "app.example.com").status) == "NXDOMAIN" })
        #expect(try Self.ask(primary, "manual.example.com").answers == ["manual.example.com. 300 in a 198.51.100.99"])
        #expect(routerd.process.stderr.contains("manual.example.com is routed, but"), "\(routerd.process.stderr.suffix(2000))")
        // A restart with other routes reconciles: what the old one made and the new does not route goes.
        _ = try routerd.stop()
        routerd = try Self.routerd(updating: primary, folder: folder)
        #expect(try routerctl(["add", "web.example.com", "--tunnel", "t2"]).status == 0)
        #expect(eventually(timeout: 30) {
            (try? Self.ask(primary, "x.wild.example.com").status) == "NXDOMAIN" && (try? Self.ask(primary, "web.example.com").answers.count) == 1
        }, "\(routerd.process.stderr.suffix(2000))")
        #expect(try Self.ask(primary, "manual.example.com").answers == ["manual.example.com. 300 in a 198.51.100.99"])
        #expect(try Self.ask(primary, "ns1.example.com").answers == ["ns1.example.com. 300 in a 192.0.2.53"])
        _ = try routerd.stop()
    }
}
