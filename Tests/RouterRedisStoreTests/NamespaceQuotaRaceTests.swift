import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// A namespace's quota on a shared store: the check is part of the change Redis decides, so two
/// members racing past one quota through two routerd never end above it.
@Suite("Namespace quotas on Redis", .serialized)
struct NamespaceQuotaRaceTests {
    @Test func twoMembersRacingThroughTwoDaemonsNeverEndAboveTheQuota() throws {
        let folder = makeTemporaryDirectory("nsrace-")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Two token principals (no admins), members of one team with a quota of 10 routes.
        let tokens = folder + "/tokens"
        try "alice alice-token-0123456789\nbob bob-token-0123456789abc\n".write(toFile: tokens, atomically: true, encoding: .utf8)
        chmod(tokens, 0o600)
        for (name, token) in [("alice", "alice-token-0123456789"), ("bob", "bob-token-0123456789abc")] {
            try token.write(toFile: folder + "/\(name).token", atomically: true, encoding: .utf8)
            chmod(folder + "/\(name).token", 0o600)
        }
        let config = folder + "/routerd.yaml"
        try """
            namespaces:
              - name: web
                domains: [web.example.com]
                members: {tokens: [alice, bob]}
                quota: {routes: 10}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let store = try SharedStore(daemons: 2, arguments: ["--config", config, "--http", "0", "--http-tokens", tokens, "--log-level", "notice"])
        let ports = try store.daemons.map { try $0.httpPort() }
        // Each member sends 30 adds through their own daemon, at the same time.
        var lines: [String: String] = [:]
        for name in ["alice", "bob"] {
            lines[name] = (0..<30).map { "add \(name)\($0).web.example.com --tunnel t-\(name)" }.joined(separator: "\n") + "\n"
        }
        let runs = try [("alice", 0), ("bob", 1)].map { name, daemon in
            try ChildProcess(productsDirectory + "/routerctl",
                             ["--url", "http://127.0.0.1:\(ports[daemon])", "--token-file", folder + "/\(name).token", "batch", "-o", "json"],
                             stdin: lines[name]!, directory: folder)
        }
        let results = runs.map { $0.wait(timeout: 120) }
        let output = results.map { $0.stdout + $0.stderr }.joined(separator: "\n")
        let added = output.components(separatedBy: #"{"route":{"#).count - 1
        let refused = output.components(separatedBy: #""code":"quota_exceeded""#).count - 1
        #expect(added == 10, "exactly the quota is added: \(added)\n\(output.prefix(2000))")
        #expect(refused == 50, "every other add is refused for the quota: \(refused)")
        // Both daemons' tables agree: 10 routes in the namespace.
        for index in 0..<2 {
            #expect(try eventually {
                try store.connect(index).routes().keys.filter { $0.hasSuffix(".web.example.com") }.count == 10
            }, "daemon \(index)")
        }
    }

    @Test func daemonsEnforcingOtherNamespacesSaySoAndAreNotReadyUntilTheyAgree() throws {
        let folder = makeTemporaryDirectory("nsdigest-")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tokens = folder + "/tokens"
        try "ops ops-token-0123456789abcdef admin\n".write(toFile: tokens, atomically: true, encoding: .utf8)
        chmod(tokens, 0o600)
        let team = "namespaces:\n  - name: web\n    domains: [web.example.com]\n    quota: {routes: 10}\n"
        try team.write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)
        try team.replacingOccurrences(of: "10", with: "20").write(toFile: folder + "/b.yaml", atomically: true, encoding: .utf8)
        let http = ["--http", "0", "--http-tokens", tokens, "--log-level", "notice"]
        let store = try SharedStore(daemons: 1, arguments: ["--config", folder + "/a.yaml"] + http)
        let b = try RouterdProcess(["--store", "redis+unix://\(store.redis.socket)", "--domain", "example.com",
                                    "--config", folder + "/b.yaml"] + http)
        defer { _ = try? b.stop() }
        let port = try store.daemons[0].httpPort()
        func mismatch(_ client: LineClient) throws -> [JSONValue] {
            guard case .array(let others)? = try client.request(#"{"id":1,"op":"stats"}"#)["result"]?["store"]?["config_mismatch"] else { return [] }
            return others
        }
        func readyz() throws -> Finished {
            try ChildProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/readyz"], directory: folder).wait(timeout: 30)
        }
        let a = try store.connect(0)
        #expect(try eventually { try !mismatch(a).isEmpty }, "A sees B enforce other namespaces")
        let refused = try readyz()
        #expect(refused.stdout.hasSuffix("\n503") && refused.stdout.contains("enforce other namespaces"), "\(refused.stdout)")
        // B is given A's file and reloads: both agree, A is ready again.
        try team.write(toFile: folder + "/b.yaml", atomically: true, encoding: .utf8)
        b.process.signal(SIGHUP)
        #expect(try eventually { try mismatch(a).isEmpty }, "the mismatch clears once B reloads")
        #expect(try eventually { try readyz().stdout.hasSuffix("\n200") })
    }
}
