import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import DomainRouter
@testable import RouterServer

/// Routes are written straight into reserved memory (`Wire.writeRoute`): the reserved size must
/// hold the worst case, and what is written must read back as the route.
@Suite("Route JSON written in place")
struct RouteJSONTests {
    static func route(owner: String, labels: [String: String], target: RouteTarget?, tunnel: String) throws -> Route {
        Route(key: "*.a-very-long-name-for-a-wildcard.example.com", kind: .wildcard, tunnel: try TunnelID(tunnel),
              target: target, labels: labels, owner: owner, session: .max,
              createdAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_123),
              updatedAt: Timestamp(millisecondsSinceEpoch: 1_780_000_000_456),
              expiresAt: Timestamp(millisecondsSinceEpoch: 253_402_300_799_999),
              ttl: .milliseconds(31_622_399_999), createRevision: .max, modRevision: .max)
    }

    @Test func worstCaseStringsFitTheirBoundAndReadBack() throws {
        let nasty = String(repeating: "\u{1}\"\\\n", count: 64)
        let r = try Self.route(owner: nasty, labels: [nasty: nasty, "b": "\u{7F}"],
                               target: .unixSocket(path: "/" + String(repeating: "s", count: 100)),
                               tunnel: String(repeating: "t", count: 128))
        for viewer in [Principal.admin("root"), .user("mallory")] {
            guard case .raw(let bytes) = Wire.route(r, for: Viewer(viewer)) else { Issue.record("not raw"); continue }
            #expect(bytes.count <= Wire.maximumLength(of: r))
            let back = try JSONParser.parse(String(decoding: bytes, as: UTF8.self))
            #expect(back["owner"] == .string(nasty))
            #expect(back["tunnel"] == .string(r.tunnel.rawValue))
            #expect(back["session"] == .string(String(UInt64.max)))
            #expect(back["create_revision"] == .number(String(UInt64.max)))
            #expect(back["ttl"] == .number("31622399.999"))
            #expect(back["updated_at"] == .string("2026-05-28T20:26:40.456Z"))
            #expect(back["expires_at"] == .string("9999-12-31T23:59:59.999Z"))
            if viewer.isAdmin {
                #expect(back["labels"]?[nasty] == .string(nasty))
                #expect(back["target"] == .string(r.target!.description))
            } else {
                #expect(back["labels"] == .object([]) && back["target"] == .null, "another owner's target and labels are hidden")
            }
        }
    }
}
