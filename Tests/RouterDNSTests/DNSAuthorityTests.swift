import DNSWire
import DomainRouter
import RouterEngine
import Synchronization
import Testing
@testable import RouterDNS

/// The answers, from a table in this process: what each kind of name resolves to, and the
/// refusals and errors a server owes malformed or foreign queries.
@Suite("DNS answers from the table")
struct DNSAuthorityTests {
    let table: RouteTable
    let authority: DNSAuthority

    init() throws {
        table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com", "apps.example.org"]))
        let zones = try DNSZones(zones: ["example.com", "example.org"], nameservers: [("ns1.example.com", ["192.0.2.53"])],
                                 hostmaster: "dns-admin@example.net", addresses: ["192.0.2.10", "2001:db8::10"], ttl: 30, negativeTTL: 60)
        authority = DNSAuthority(zones: zones, table: table, instance: { "6b000000aaaaaaaa" })
        for key in ["app.example.com", "*.wild.example.com", "wild.example.com", "deep.x.y.example.com", "one.apps.example.org"] {
            _ = try table.add(AddRequest(.key(try table.key(key)), tunnel: try TunnelID("t1")), as: .admin("root"))
        }
    }

    func ask(_ name: String, _ type: DNSType, edns: Bool = true) throws -> DNSMessage {
        var query = DNSMessage(id: 1, questions: [DNSQuestion(name: try DNSName(name), type: type)])
        if edns { query.edns = DNSMessage.EDNS(payloadSize: 1232) }
        return authority.answer(query)
    }

    @Test func aRoutedNameAnswersWithTheGatewaysAddressesAndNothingElse() throws {
        let a = try ask("App.Example.com", .a)
        #expect(a.responseCode == .noError && a.isAuthoritative && a.answers.map(\.data) == [.a(.init(192, 0, 2, 10))])
        #expect(a.answers.first?.name.description == "App.Example.com", "the owner echoes the question's case")
        #expect(try ask("app.example.com", .aaaa).answers.map(\.data) == [.aaaa(.init("2001:db8::10")!)])
        let other = try ask("app.example.com", .txt)
        #expect(other.responseCode == .noError && other.answers.isEmpty && other.authority.first?.type == .soa, "NODATA")
    }

    @Test func wildcardsResolveAsTheTableDoesEvenBelowANameWithItsOwnRoute() throws {
        // RFC 4592 would stop *.wild at wild.example.com's own records; the table does not.
        for name in ["x.wild.example.com", "a.b.wild.example.com", "*.wild.example.com", "wild.example.com"] {
            #expect(try ask(name, .a).answers.count == 1, "\(name)")
        }
        #expect(authority.resolve(try DNSName("a.b.wild.example.com")).resolution == .routed(via: "*.wild.example.com", wildcard: true))
    }

    @Test func ancestorsOfRoutesAreNoDataAndEverythingElseIsNXDomain() throws {
        for name in ["y.example.com", "x.y.example.com", "apps.example.org"] {
            let answer = try ask(name, .a)
            #expect(answer.responseCode == .noError && answer.answers.isEmpty, "\(name): an empty non-terminal")
        }
        for name in ["q.x.y.example.com", "nope.example.com", "two.apps.example.org", "zzz.example.org"] {
            let answer = try ask(name, .a)
            #expect(answer.responseCode == .nameError && answer.authority.first?.ttl == 60, "\(name)")
            guard case .soa(let soa)? = answer.authority.first?.data else { Issue.record("\(name): no SOA"); continue }
            #expect(soa.minimum == 60 && soa.mailbox.description == "dns-admin.example.net")
        }
        // A delete makes it NXDOMAIN at once, and its ancestors with it.
        _ = try table.delete(try table.key("deep.x.y.example.com"), as: .admin("root"))
        #expect(try ask("deep.x.y.example.com", .a).responseCode == .nameError)
        #expect(try ask("y.example.com", .a).responseCode == .nameError)
    }

    @Test func theApexHasSOAAndNSAndAnInZoneNameServerItsAddress() throws {
        let soa = try ask("example.com", .soa)
        guard case .soa(let record)? = soa.answers.first?.data else { Issue.record("\(soa)"); return }
        #expect(record.primary.description == "ns1.example.com" && record.serial == 0x6b00_0000 &+ UInt32(table.revision))
        let ns = try ask("example.com", .ns)
        #expect(ns.answers.map(\.data) == [.ns(try DNSName("ns1.example.com"))] && ns.additional.map(\.data) == [.a(.init(192, 0, 2, 53))])
        #expect(try ask("ns1.example.com", .a).answers.map(\.data) == [.a(.init(192, 0, 2, 53))])
        #expect(try ask("example.org", .ns).answers.count == 1, "every zone has the NS records")
    }

    @Test func theSerialFollowsTheRevisionAndANewSequenceStartsLater() throws {
        let before = authority.serial()
        _ = try table.add(AddRequest(.key(try table.key("more.example.com")), tunnel: try TunnelID("t1")), as: .admin("root"))
        #expect(authority.serial() == before &+ 1)
        // A daemon started an hour later (a new instance id) counts from its own start.
        #expect(DNSSerial.serial(sequence: "6b000e10bbbbbbbb", revision: 1) == 0x6b00_0e10 &+ 1)
        // An id from an older routerd (no time in it) still gives every daemon the same serial.
        #expect(DNSSerial.serial(sequence: "not-a-sequence", revision: 5) == DNSSerial.serial(sequence: "not-a-sequence", revision: 5))
    }

    @Test func foreignMalformedAndUnsupportedQueriesGetTheirCodes() throws {
        #expect(try ask("example.net", .a).responseCode == .refused)
        #expect(try ask("example.com", .axfr).responseCode == .refused)
        var chaos = DNSMessage(id: 3, questions: [DNSQuestion(name: try DNSName("version.bind"), type: .txt, questionClass: .chaos)])
        #expect(authority.answer(chaos).responseCode == .refused)
        chaos.opcode = .update
        #expect(authority.answer(chaos).responseCode == .notImplemented)
        var newer = DNSMessage(id: 4, questions: [DNSQuestion(name: try DNSName("app.example.com"), type: .a)])
        newer.edns = DNSMessage.EDNS(payloadSize: 1232, version: 1)
        let badVersion = authority.answer(newer)
        let reread = try DNSMessage(parsing: badVersion.bytes())
        #expect(badVersion.responseCode == .badVersion && reread.responseCode == .badVersion)
        // Bytes that do not read: FORMERR with the id; a response, or less than a header: nothing.
        let formErr = try DNSMessage(parsing: #require(authority.respond(to: [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0], over: .udp).first))
        #expect(formErr.id == 0xABCD && formErr.responseCode == .formatError && formErr.isResponse)
        #expect(authority.respond(to: [0xAB, 0xCD, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0], over: .udp).isEmpty)
        #expect(authority.respond(to: [0xAB], over: .udp).isEmpty)
    }

    @Test func theRateLimitLetsABurstThroughThenSlipsEverySecondAnswerAndRefills() throws {
        let clock = Mutex<UInt64>(0)
        let limiter = DNSRateLimiter(rate: 3) { clock.withLock { $0 } }
        let client = try #require(IPAddress("198.51.100.7"))
        let neighbour = try #require(IPAddress("198.51.100.200"))
        let other = try #require(IPAddress("203.0.113.1"))
        #expect((0..<3).map { _ in limiter.admit(client) } == [.send, .send, .send])
        #expect((0..<4).map { _ in limiter.admit(neighbour) } == [.slip, .drop, .slip, .drop], "one /24, one budget")
        #expect(limiter.admit(other) == .send, "another network has its own")
        clock.withLock { $0 = 1_000_000_000 }
        #expect((0..<4).map { _ in limiter.admit(client) } == [.send, .send, .send, .slip], "a second later, the rate again")
    }
}
