import Testing
@testable import DNSWire

/// The wire format: what a real resolver sends reads back field by field, answers compress and
/// read back equal, and hostile bytes (pointer loops, forward pointers, counts past the end,
/// overlong names, random mutations of real packets) are refused with an error, never a crash.
@Suite("DNS messages")
struct DNSMessageTests {
    /// `dig +norec www.Example.COM A` as BIND 9.18's dig sends it: EDNS with a 1232-byte
    /// payload and a COOKIE option.
    static let digQuery: [UInt8] = [
        0x4f, 0x3a, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x03, 0x77, 0x77, 0x77, 0x07, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x43, 0x4f, 0x4d, 0x00,
        0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x0a, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    ]

    @Test func aDigQueryReadsBackFieldByField() throws {
        let query = try DNSMessage(parsing: Self.digQuery)
        #expect(query.id == 0x4f3a && !query.isResponse && query.opcode == .query && !query.recursionDesired)
        #expect(query.questions == [DNSQuestion(name: try DNSName("www.example.com"), type: .a)])
        #expect(query.questions[0].name.description == "www.Example.COM", "the case is kept")
        #expect(query.questions[0].name.hostName == "www.example.com")
        #expect(query.edns?.payloadSize == 1232 && query.edns?.version == 0 && query.edns?.options.first?.code == 10)
        // Written again, it is the same bytes.
        #expect(try query.bytes() == Self.digQuery)
    }

    @Test func anAnswerCompressesItsNamesAndReadsBackEqual() throws {
        let zone = try DNSName("example.com")
        let name = try DNSName("app.example.com")
        var answer = DNSMessage(id: 7, questions: [DNSQuestion(name: name, type: .a)])
        answer.isResponse = true
        answer.isAuthoritative = true
        answer.answers = [DNSRecord(name: name, ttl: 30, data: .a(.init(192, 0, 2, 1))),
                          DNSRecord(name: name, ttl: 30, data: .a(.init(192, 0, 2, 2)))]
        answer.authority = [DNSRecord(name: zone, ttl: 300, data: .ns(try DNSName("ns1.example.com")))]
        answer.additional = [DNSRecord(name: zone, ttl: 300, data: .soa(.init(
            primary: try DNSName("ns1.example.com"), mailbox: try DNSName("hostmaster.example.com"),
            serial: 2026120601, refresh: 300, retry: 60, expire: 1_209_600, minimum: 30)))]
        answer.edns = DNSMessage.EDNS(payloadSize: 1232)
        let bytes = try answer.bytes()
        #expect(try DNSMessage(parsing: bytes) == answer)
        // Each name is written once, later ones as two-byte pointers: header 12, question 21,
        // two A 16 each, NS 18 (ns1 + pointer), SOA 47 (ns1 pointer, hostmaster + pointer), OPT 11.
        #expect(bytes.count == 141, "\(bytes.count) bytes: names were not compressed")
    }

    @Test func anAnswerTooLargeForItsLimitIsCutToItsQuestionWithTC() throws {
        let name = try DNSName("big.example.com")
        var answer = DNSMessage(id: 9, questions: [DNSQuestion(name: name, type: .txt)])
        answer.isResponse = true
        answer.answers = (0..<10).map { _ in DNSRecord(name: name, ttl: 30, data: .txt([Array(repeating: 0x61, count: 200)])) }
        let cut = try DNSMessage(parsing: answer.bytes(fitting: 512))
        #expect(cut.isTruncated && cut.answers.isEmpty && cut.questions == answer.questions)
        #expect(try DNSMessage(parsing: answer.bytes(fitting: 4096)).answers.count == 10)
    }

    /// Hand-made hostile messages, each with the error it must give.
    static let hostile: [(String, [UInt8], DNSError.Code)] = [
        ("shorter than a header", [0x00, 0x01, 0x00], .truncated),
        ("a pointer to itself", header(qd: 1) + [0xC0, 12, 0, 1, 0, 1], .badPointer),
        ("a pointer forward", header(qd: 1) + [0xC0, 20, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0], .badPointer),
        ("a pointer loop of two", header(qd: 1) + [0x01, 0x61, 0xC0, 16, 0x01, 0x62, 0xC0, 12, 0, 1, 0, 1], .badPointer),
        ("a pointer past the end", header(qd: 1) + [0xC0], .truncated),
        ("a label past the end", header(qd: 1) + [0x05, 0x61], .truncated),
        ("an extended label type", header(qd: 1) + [0x41, 0x00, 0x00, 0, 1, 0, 1], .badName),
        ("a name over 255 bytes", header(qd: 1) + Array(repeating: [0x3F] + Array(repeating: 0x61, count: 63), count: 5).flatMap { $0 } + [0, 0, 1, 0, 1],
         .badName),
        ("counts past the end", header(qd: 1, an: 0xFFFF) + [0, 0, 1, 0, 1], .truncated),
        ("a record's length past the end", header(an: 1) + [0, 0, 1, 0, 1, 0, 0, 0, 30, 0xFF, 0xFF, 1, 2, 3, 4], .truncated),
        ("an A record of 5 bytes", header(an: 1) + [0, 0, 1, 0, 1, 0, 0, 0, 30, 0, 5, 1, 2, 3, 4, 5], .badRecord),
        ("two OPT records", header(ar: 2) + [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0], .badRecord),
        ("an OPT not at the root", header(ar: 1) + [1, 0x61, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0], .badRecord),
        ("bytes after the last record", header(qd: 1) + [0, 0, 1, 0, 1, 0xAA], .truncated),
        ("an NS whose name overruns its data", header(an: 1) + [0, 0, 2, 0, 1, 0, 0, 0, 30, 0, 2, 1, 0x61, 0], .badRecord),
    ]

    static func header(qd: UInt16 = 0, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [0x12, 0x34, 0x00, 0x00] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    @Test(arguments: hostile.indices)
    func aHostileMessageIsRefusedWithItsReason(index: Int) {
        let (what, bytes, code) = Self.hostile[index]
        do {
            let parsed = try DNSMessage(parsing: bytes)
            Issue.record("\(what): read as \(parsed)")
        } catch {
            #expect(error.code == code, "\(what): \(error)")
        }
    }

    /// Random mutations of real packets (a query, an answer with compression): each reads or
    /// is refused, and whatever reads writes back to bytes that read back equal.
    @Test func mutatedPacketsNeverCrashTheReader() throws {
        var answer = try DNSMessage(parsing: Self.digQuery)
        answer.isResponse = true
        let name = answer.questions[0].name
        answer.answers = [DNSRecord(name: name, ttl: 30, data: .a(.init(192, 0, 2, 1))),
                          DNSRecord(name: name, ttl: 30, data: .ns(try DNSName("ns.example.com")))]
        let seeds = [Self.digQuery, try answer.bytes()]
        var random = SplitMix(seed: 0x5EED)
        var read = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...(random.next() % 4) {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                }
                if bytes.isEmpty { break }
            }
            guard let parsed = try? DNSMessage(parsing: bytes) else { continue }
            read += 1
            let again = try DNSMessage(parsing: parsed.bytes())
            #expect(again == parsed, "round \(round)")
        }
        #expect(read > 100, "some mutations still read (\(read)): the test reaches the record readers")
    }

    @Test func namesCompareWithoutCaseAndKnowTheirPlace() throws {
        let a = try DNSName("App.Example.com.")
        let same = try DNSName("app.example.com"), zone = try DNSName("EXAMPLE.com"), other = try DNSName("ple.com")
        #expect(a == same && a.labelCount == 3)
        #expect(a.isAtOrBelow(zone) && !a.isAtOrBelow(other))
        #expect(a.parent()?.description == "Example.com" && DNSName.root.isRoot)
        #expect(throws: DNSError.self) { try DNSName("a..b") }
        #expect(throws: DNSError.self) { try DNSName(String(repeating: "a", count: 64) + ".com") }
        #expect(try DNSName("*.x.example.com").hostName == "*.x.example.com")
        #expect(try DNSName("a\u{7f}b.example.com").hostName == nil)
        #expect(DNSRecordData.IPv6("2001:db8::1")?.description == "2001:db8::1")
        #expect(DNSRecordData.IPv6("::ffff:192.0.2.1")?.description == "::ffff:c000:201")
        #expect(DNSRecordData.IPv6("1:2:3:4:5:6:7:8:9") == nil && DNSRecordData.IPv4("1.2.3.04") == nil)
    }
}

/// A small deterministic generator (SplitMix64) for the mutation rounds.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
