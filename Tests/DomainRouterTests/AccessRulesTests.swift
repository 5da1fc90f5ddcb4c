import Testing
@testable import DomainRouter

/// Per-route IP allow and deny: the rules themselves, and the table keeping them.
@Suite("Access rules")
struct AccessRulesTests {
    func address(_ text: String) -> IPAddress { IPAddress(text)! }

    @Test func noRulesAdmitEveryone() {
        #expect(AccessRules().admits(address("203.0.113.9")))
        #expect(AccessRules().admits(address("2001:db8::1")))
    }

    @Test func anAllowListAdmitsOnlyItsBlocks() throws {
        let rules = try AccessRules(allow: ["10.0.0.0/8", "2001:db8::/32"], deny: [])
        #expect(rules.admits(address("10.200.0.1")))
        #expect(rules.admits(address("2001:db8:1::5")))
        #expect(!rules.admits(address("192.168.0.1")))
        #expect(!rules.admits(address("2001:db9::1")))
    }

    @Test func aBlockWithHostBitsIsKeptAsItsNetwork() throws {
        #expect(try CIDR("10.0.0.1/8").description == "10.0.0.0/8")
        #expect(try CIDR("192.168.77.200/20").description == "192.168.64.0/20")
        #expect(try CIDR("fd00::1/8").description == "fd00::/8")
        #expect(try CIDR("10.0.0.1").description == "10.0.0.1/32")
        #expect(try CIDR("0.0.0.0/0").contains(IPAddress("203.0.113.9")!))
    }

    @Test func denyWinsOverAllow() throws {
        let rules = try AccessRules(allow: ["10.0.0.0/8"], deny: ["10.1.0.0/16", "10.9.9.9"])
        #expect(rules.admits(address("10.2.0.1")))
        #expect(!rules.admits(address("10.1.2.3")))
        #expect(!rules.admits(address("10.9.9.9")))
        let denyOnly = try AccessRules(allow: [], deny: ["198.51.100.0/24"])
        #expect(!denyOnly.admits(address("198.51.100.7")))
        #expect(denyOnly.admits(address("198.51.101.7")))
    }

    @Test func anIPv4MappedAddressIsCheckedAsIPv4() throws {
        let rules = try AccessRules(allow: ["127.0.0.0/8"], deny: [])
        #expect(rules.admits(address("::ffff:127.0.0.1")))
        #expect(!rules.admits(address("::1")))
    }

    @Test func aBadBlockIsRefusedByName() {
        for (block, words) in [("10.0.0.0/33", "prefix length must be 0 to 32"), ("example.com", "'example.com' is not a CIDR block"),
                               ("fd00::/129", "0 to 128")] {
            do {
                _ = try AccessRules(allow: [block], deny: [])
                Issue.record("\(block) was taken")
            } catch {
                #expect(error.code == .badRequest)
                #expect("\(error)".contains(words), "\(error)")
            }
        }
        #expect(throws: RouteError.self) { try AccessRules(allow: [], deny: Array(repeating: "10.0.0.1", count: 65)) }
    }

    @Test func theTableKeepsRulesAndAnUpdateReplacesThem() throws {
        let table = try makeTable()
        let rules = try AccessRules(allow: ["10.0.0.0/8"], deny: ["10.1.0.0/16"])
        _ = try table.add(AddRequest(.key(try table.key("app")), tunnel: try TunnelID("t"), access: rules), as: alice)
        #expect(table.lookup(host: "app.example.com")?.route.access == rules)
        #expect(table.lookup(host: "app.example.com")?.route.redacted(for: bob).access == AccessRules(), "other owners do not see them")
        _ = try table.add(AddRequest(.key(try table.key("app")), tunnel: try TunnelID("t")), as: alice)
        #expect(table.lookup(host: "app.example.com")?.route.access == AccessRules())
    }
}
