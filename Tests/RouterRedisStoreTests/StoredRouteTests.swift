import DomainRouter
import RouterEngine
import Testing
@testable import RouterRedisStore

@Suite("The stored form of routes")
struct StoredRouteTests {
    @Test func everyFieldSurvivesTheRoundTrip() throws {
        let full = Route(
            key: "bücher.example.com", kind: .host, tunnel: try TunnelID("t.quoted_1"),
            target: try RouteTarget(parsing: "[::1]:8443"), labels: ["env": "prod", "note": "a\nb\"c"],
            owner: "alice", session: (7 << 40) | 12, createdAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_123),
            updatedAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_456), expiresAt: Timestamp(millisecondsSinceEpoch: 1_780_000_300_456),
            ttl: .milliseconds(300_000), createRevision: 41, modRevision: 97)
        #expect(try StoredRoute.decode(StoredRoute.encode(full)) == full)
        let bare = Route(key: "tcp:49000", kind: .tcp, tunnel: try TunnelID("t"), owner: "root",
                         createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 2),
                         createRevision: 1, modRevision: 1)
        #expect(try StoredRoute.decode(StoredRoute.encode(bare)) == bare)
        let socket = Route(key: "*.w.example.com", kind: .wildcard, tunnel: try TunnelID("t"), target: try RouteTarget(parsing: "unix:/run/app.sock"),
                           owner: "bob", createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 2),
                           createRevision: 3, modRevision: 4)
        #expect(try StoredRoute.decode(StoredRoute.encode(socket)) == socket)
        let guarded = Route(key: "admin.example.com", kind: .host, tunnel: try TunnelID("t"), target: try RouteTarget(parsing: "10.0.0.5:80"),
                            access: try AccessRules(allow: ["10.0.0.0/8", "2001:db8::/32"], deny: ["10.1.0.0/16"]),
                            owner: "ops", createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 2),
                            createRevision: 5, modRevision: 6)
        #expect(try StoredRoute.decode(StoredRoute.encode(guarded)) == guarded)
    }

    @Test func theFastReaderAgreesWithTheJSONParser() throws {
        let plain = Route(key: "a.example.com", kind: .host, tunnel: try TunnelID("t1"), target: try RouteTarget(parsing: "10.0.0.5:8080"),
                          owner: "alice", session: (3 << 40) | 9, createdAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_000),
                          updatedAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_001), expiresAt: Timestamp(millisecondsSinceEpoch: 1_780_000_060_001),
                          ttl: .milliseconds(60_000), createRevision: 5, modRevision: 6)
        let text = StoredRoute.encode(plain)
        #expect(StoredRoute.decodeAsWritten(text) == plain)
        // What the fast reader does not take (an escape, labels, another order), the parser does.
        var labelled = plain
        labelled.labels = ["env": "prod"]
        #expect(StoredRoute.decodeAsWritten(StoredRoute.encode(labelled)) == nil)
        #expect(try StoredRoute.decode(StoredRoute.encode(labelled)) == labelled)
        var escaped = plain
        escaped.owner = "al\"ice"
        #expect(StoredRoute.decodeAsWritten(StoredRoute.encode(escaped)) == nil)
        #expect(try StoredRoute.decode(StoredRoute.encode(escaped)) == escaped)
        #expect(StoredRoute.decodeAsWritten(text + " ") == nil)
        #expect(StoredRoute.decodeAsWritten(String(text.dropLast())) == nil)
    }

    @Test func whatIsNotAStoredRouteIsRefusedNamingWhy() {
        #expect(throws: StoreFormatError.self) { try StoredRoute.decode("not json") }
        #expect(throws: StoreFormatError.self) { try StoredRoute.decode(#"{"key":"a.example.com"}"#) }
        #expect(throws: StoreFormatError.self) { try StoredRoute.decode(#"{"key":"a","kind":"ufo","tunnel":"t","owner":"o","created":1,"updated":1,"create_rev":1,"mod_rev":1}"#) }
    }
}
