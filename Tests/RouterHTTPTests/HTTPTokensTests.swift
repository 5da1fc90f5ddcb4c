import Foundation
import RouterTestSupport
import Testing
@testable import RouterHTTP

/// The token file: its format, its permissions, and matching a presented token.
@Suite("HTTP token file")
struct HTTPTokensTests {
    let alice = String(repeating: "a", count: 24)
    let ops = String(repeating: "b", count: 24)

    @Test func readsPrincipalsTokensAndAdmins() throws {
        let tokens = try HTTPTokens(text: "# the gateway's users\n\nalice \(alice)\nops \(ops) admin  # the operator\n")
        #expect(tokens.count == 2)
        #expect(tokens.principal(for: Array(alice.utf8)) == .user("alice"))
        #expect(tokens.principal(for: Array(ops.utf8)) == .admin("ops"))
        #expect(tokens.principal(for: Array(alice.dropLast().utf8)) == nil, "a prefix is not the token")
        #expect(tokens.principal(for: Array((alice + "x").utf8)) == nil, "nor is a longer one")
        #expect(tokens.principal(for: []) == nil)
    }

    @Test(arguments: [
        ("alice\n", "line 1: expected PRINCIPAL TOKEN [admin], got 1 words"),
        ("alice \(String(repeating: "a", count: 24)) root\n", "line 1: the third word may only be 'admin'"),
        ("# ok\nbob short\n", "line 2: the token for bob is 5 characters"),
        ("a \(String(repeating: "x", count: 20))\nb \(String(repeating: "x", count: 20))\n", "line 2: this token is already given"),
    ])
    func aMalformedFileIsRefusedNamingTheLine(_ input: (String, String)) {
        do {
            let tokens = try HTTPTokens(text: input.0)
            Issue.record("accepted \(tokens.count) tokens")
        } catch {
            #expect(error.description.contains(input.1), "\(error)")
        }
    }

    @Test func aFileOthersMayReadIsRefused() throws {
        let dir = makeTemporaryDirectory("tok-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tokens"
        try "alice \(alice)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: HTTPTokensError.self) { try HTTPTokens(path: path) }
        chmod(path, 0o600)
        #expect(try HTTPTokens(path: path).count == 1)
    }
}
