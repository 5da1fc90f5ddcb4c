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
}
