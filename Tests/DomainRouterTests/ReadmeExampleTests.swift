import Foundation
import Testing
import DomainRouter

/// The code sample in README.md ("Embedding the table"), kept compiling and passing.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func embeddingSampleRuns() async throws {
        let table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]))
        let alice = Principal.user("alice")

        // A bare label goes under the only base domain; the table assigns a tunnel id when none is given.
        let added = try table.add(AddRequest(.key(try table.key("foo")), ttl: .seconds(60)), as: alice)
        print(added.route.key, added.route.tunnel)          // foo.example.com 1b4e…

        // The gateway's hot path: a raw Host header or SNI value in, the route (or nil) out.
        if let hit = table.lookup(host: "Foo.Example.COM:8443") {
            print(hit.route.tunnel, hit.match, hit.via)      // … exact foo.example.com
        }

        // Collisions name the holder to those allowed to see it.
        do {
            _ = try table.add(AddRequest(.key(try table.key("foo"))), as: .user("bob"))
        } catch {
            print(error.code, error)                         // conflict foo.example.com is taken; …
        }

        // Expire routes on time: run the sweeper beside the gateway.
        let sweeper = Task { await table.runExpiry() }
        sweeper.cancel()

        #expect(added.route.key == "foo.example.com")
        #expect(table.lookup(host: "Foo.Example.COM:8443")?.via == "foo.example.com")
    }

    @Test func readmeCarriesTheSampleVerbatim() throws {
        let readme = try String(contentsOfFile: #filePath.replacingOccurrences(
            of: "Tests/DomainRouterTests/ReadmeExampleTests.swift", with: "README.md"), encoding: .utf8)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = try #require(source.range(of: "        let table = try RouteTable("))
        let end = try #require(source.range(of: "        sweeper.cancel()\n"))
        let sample = source[start.lowerBound..<end.upperBound]
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.dropFirst(8) }
            .joined(separator: "\n")
        #expect(readme.contains(sample))
    }
}
