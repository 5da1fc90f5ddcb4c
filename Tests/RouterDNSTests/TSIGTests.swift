import DNSWire
import Testing
@testable import RouterDNS

/// TSIG (RFC 8945) with HMAC-SHA256: what routerd signs checks, a changed byte or another key
/// does not, a clock too far off is BADTIME, and keys read from BIND's key file format.
@Suite("TSIG")
struct TSIGTests {
    let key = TSIGKey(name: try! DNSName("Transfer"), secret: Array("0123456789abcdef0123456789abcdef".utf8))

    func query() throws -> [UInt8] {
        try DNSMessage(id: 0x1234, questions: [DNSQuestion(name: try DNSName("example.com"), type: .axfr)]).bytes()
    }

    @Test func aSignedMessageChecksAndAnyChangeOrOtherKeyDoesNot() throws {
        let signed = TSIG.sign(try query(), key: key, time: 1_800_000_000, chain: .request)
        let verified = try TSIG.verify(signed.bytes, keys: [key.name: key], now: 1_800_000_100)
        #expect(verified?.unsigned == (try query()) && verified?.mac == signed.mac && signed.mac.count == 32)
        var changed = signed.bytes
        changed[13] ^= 0x20
        #expect(throws: TSIG.Failure.badSignature) { try TSIG.verify(changed, keys: [key.name: key], now: 1_800_000_000) }
        let other = TSIGKey(name: key.name, secret: Array("another secret entirely, 32 byte".utf8))
        #expect(throws: TSIG.Failure.badSignature) { try TSIG.verify(signed.bytes, keys: [key.name: other], now: 1_800_000_000) }
        #expect(throws: TSIG.Failure.badKey) { try TSIG.verify(signed.bytes, keys: [:], now: 1_800_000_000) }
        #expect(throws: TSIG.Failure.badTime) { try TSIG.verify(signed.bytes, keys: [key.name: key], now: 1_800_000_301) }
        #expect(try TSIG.verify(try query(), keys: [key.name: key], now: 0) == nil, "an unsigned message is not a failure")
    }

    @Test func aResponseAndItsContinuationsChainTheirMACs() throws {
        let request = TSIG.sign(try query(), key: key, time: 1_800_000_000, chain: .request)
        var answer = DNSMessage(id: 0x1234)
        answer.isResponse = true
        let first = TSIG.sign(try answer.bytes(), key: key, time: 1_800_000_001, chain: .response(requestMAC: request.mac))
        #expect(try TSIG.verify(first.bytes, keys: [key.name: key], now: 1_800_000_001, chain: .response(requestMAC: request.mac)) != nil)
        #expect(throws: TSIG.Failure.badSignature) {
            try TSIG.verify(first.bytes, keys: [key.name: key], now: 1_800_000_001, chain: .request)
        }
        let second = TSIG.sign(try answer.bytes(), key: key, time: 1_800_000_002, chain: .continuation(priorMAC: first.mac))
        #expect(try TSIG.verify(second.bytes, keys: [key.name: key], now: 1_800_000_002, chain: .continuation(priorMAC: first.mac)) != nil)
    }

    @Test func keysAreReadFromBINDsFormatAndProblemsNamedWithTheirLine() throws {
        let keys = try TSIGKeyFile.parse("""
            # made by tsig-keygen
            key "transfer" {
            \talgorithm hmac-sha256;
            \tsecret "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
            };
            key "second" { algorithm HMAC-SHA256; secret "c2Vjb25k"; };
            """)
        #expect(keys.map(\.name.description) == ["transfer", "second"])
        #expect(keys.first?.secret == Array("0123456789abcdef0123456789abcdef".utf8))
        #expect(throws: DNSError.self) { try TSIGKeyFile.parse("key \"old\" { algorithm hmac-md5; secret \"c2Vjb25k\"; };") }
        do {
            _ = try TSIGKeyFile.parse("key \"x\" {\n algorithm hmac-sha256;\n secret \"not base64!\";\n};")
            Issue.record("a bad secret was read")
        } catch {
            #expect(error.message.contains("line 3"), "\(error)")
        }
    }
}
