import Crypto
import DNSWire

/// A TSIG key (RFC 8945): its name and HMAC-SHA256 secret. routerd signs NOTIFY and UPDATE with
/// one and takes zone transfers only when signed with one.
package struct TSIGKey: Sendable, Hashable {
    /// Lowercase, as the MAC covers it.
    package let name: DNSName
    package let secret: [UInt8]

    package init(name: DNSName, secret: [UInt8]) {
        self.name = name.lowercased()
        self.secret = secret
    }
}

/// Signing and checking messages with TSIG, HMAC-SHA256 only (RFC 8945 §6: the one every
/// implementation must have; BIND's `tsig-keygen` default).
package enum TSIG {
    /// `hmac-sha256.`, the algorithm's name on the wire.
    package static let algorithm = try! DNSName("hmac-sha256")
    /// How far the signer's clock may be from ours, in seconds (RFC 8945 §10: 300).
    package static let fudge: UInt16 = 300

    /// TSIG's own errors, in the record's error field (the header says NOTAUTH).
    package enum Failure: UInt16, Error, Sendable {
        case badSignature = 16
        case badKey = 17
        case badTime = 18
    }

    /// The fields of a TSIG record's data.
    package struct Fields: Sendable, Hashable {
        package var algorithm: DNSName
        package var timeSigned: UInt64
        package var fudge: UInt16
        package var mac: [UInt8]
        package var originalID: UInt16
        package var error: UInt16
        package var other: [UInt8]
    }

    /// What signing covers besides the message: the request's MAC for a response, the prior
    /// message's for the second and later messages of a transfer (whose MAC covers only the
    /// times, RFC 8945 §5.3.1).
    package enum Chain: Sendable {
        case request
        case response(requestMAC: [UInt8])
        case continuation(priorMAC: [UInt8])
    }

    /// `bytes` (a whole message without TSIG) with a TSIG record appended, and its MAC.
    package static func sign(_ bytes: [UInt8], key: TSIGKey, time: UInt64, chain: Chain, error: UInt16 = 0) -> (bytes: [UInt8], mac: [UInt8]) {
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let fields = Fields(algorithm: algorithm, timeSigned: time, fudge: fudge, mac: [], originalID: id, error: error, other: [])
        let mac = Self.mac(bytes, key: key, fields: fields, chain: chain)
        var signed = bytes
        // One more additional record.
        let count = (UInt16(signed[10]) << 8 | UInt16(signed[11])) + 1
        signed[10] = UInt8(count >> 8)
        signed[11] = UInt8(count & 0xFF)
        signed += key.name.wire
        signed += [0, 250, 0, 255, 0, 0, 0, 0]  // TYPE TSIG, CLASS ANY, TTL 0
        var data = algorithm.wire
        data += be48(time) + be16(fudge) + be16(UInt16(mac.count)) + mac + be16(id) + be16(error) + be16(0)
        signed += be16(UInt16(data.count)) + data
        return (signed, mac)
    }

    /// Checks a signed message: the key (among `keys`), the MAC and the time. Returns the
    /// message without its TSIG (the additional count one less, the original id), the key and
    /// the MAC, for signing the answer; nil when the message is not signed.
    package static func verify(_ bytes: [UInt8], keys: [DNSName: TSIGKey], now: UInt64, chain: Chain = .request) throws(Failure)
        -> (unsigned: [UInt8], key: TSIGKey, mac: [UInt8])? {
        guard let (offset, record) = try? DNSMessage.lastRecord(of: bytes, type: .tsig) else { return nil }
        guard case .opaque(let data) = record.data, let fields = parse(data) else { throw .badSignature }
        guard fields.algorithm.lowercased() == algorithm, let key = keys[record.name.lowercased()] else { throw .badKey }
        var unsigned = Array(bytes[..<offset])
        let count = (UInt16(unsigned[10]) << 8 | UInt16(unsigned[11])) - 1
        unsigned[10] = UInt8(count >> 8)
        unsigned[11] = UInt8(count & 0xFF)
        unsigned[0] = UInt8(fields.originalID >> 8)
        unsigned[1] = UInt8(fields.originalID & 0xFF)
        let expected = mac(unsigned, key: key, fields: fields, chain: chain)
        // At least half the MAC, and at least 10 bytes (RFC 8945 §5.2.2.1): routerd takes the whole.
        guard fields.mac.count == expected.count, constantTimeEqual(fields.mac, expected) else { throw .badSignature }
        let skew = now > fields.timeSigned ? now - fields.timeSigned : fields.timeSigned - now
        guard skew <= UInt64(fields.fudge) else { throw .badTime }
        return (unsigned, key, fields.mac)
    }

    /// The MAC over a message and the TSIG variables (RFC 8945 §4.3.3).
    static func mac(_ message: [UInt8], key: TSIGKey, fields: Fields, chain: Chain) -> [UInt8] {
        var covered: [UInt8] = []
        covered.reserveCapacity(message.count + 128)
        switch chain {
        case .request: break
        case .response(let requestMAC), .continuation(let requestMAC):
            covered += be16(UInt16(requestMAC.count)) + requestMAC
        }
        covered += message
        if case .continuation = chain {
            covered += be48(fields.timeSigned) + be16(fields.fudge)
        } else {
            covered += key.name.wire + be16(255) + [0, 0, 0, 0]
            covered += fields.algorithm.lowercased().wire + be48(fields.timeSigned) + be16(fields.fudge)
            covered += be16(fields.error) + be16(UInt16(fields.other.count)) + fields.other
        }
        let code = HMAC<SHA256>.authenticationCode(for: covered, using: SymmetricKey(data: key.secret))
        return Array(code)
    }

    /// A TSIG record's data read into its fields; nil when it does not have their shape.
    static func parse(_ data: [UInt8]) -> Fields? {
        // The algorithm name is uncompressed (RFC 8945 §4.2): read it as a message of its own.
        var i = 0
        var labels: [UInt8] = []
        while i < data.count, data[i] != 0 {
            let n = Int(data[i])
            guard n <= 63, i + 1 + n <= data.count else { return nil }
            labels += data[i...(i + n)]
            i += 1 + n
        }
        guard i < data.count else { return nil }
        labels.append(0)
        i += 1
        guard let name = try? DNSMessage(parsing: [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] + labels + [0, 1, 0, 1]).questions.first?.name,
              data.count >= i + 10 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(data[at]) << 8 | UInt16(data[at + 1]) }
        let time = data[i..<(i + 6)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let fudge = u16(i + 6)
        let macLength = Int(u16(i + 8))
        let macStart = i + 10
        guard data.count >= macStart + macLength + 6 else { return nil }
        let mac = Array(data[macStart..<(macStart + macLength)])
        let rest = macStart + macLength
        let otherLength = Int(u16(rest + 4))
        guard data.count == rest + 6 + otherLength else { return nil }
        return Fields(algorithm: name, timeSigned: time, fudge: fudge, mac: mac, originalID: u16(rest), error: u16(rest + 2),
                      other: Array(data[(rest + 6)...]))
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be48(_ v: UInt64) -> [UInt8] { (0..<6).reversed().map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// TSIG keys from a file in BIND's format, as `tsig-keygen` writes it:
///
///     key "transfer" {
///         algorithm hmac-sha256;
///         secret "base64…";
///     };
///
/// The file must not be readable by group or others (it holds secrets).
package enum TSIGKeyFile {
    /// The keys in `text`; throws naming the first problem and its line.
    package static func parse(_ text: String) throws(DNSError) -> [TSIGKey] {
        var keys: [TSIGKey] = []
        var tokens: [(String, Int)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var current = ""
            var quoted = false
            func flush() {
                if !current.isEmpty { tokens.append((current, number + 1)) }
                current = ""
            }
            for c in line {
                if quoted {
                    if c == "\"" { tokens.append((current, number + 1)); current = ""; quoted = false } else { current.append(c) }
                } else if c == "\"" {
                    flush()
                    quoted = true
                } else if c == "#" || (c == "/" && current == "/") {
                    current = ""
                    break
                } else if c == "{" || c == "}" || c == ";" {
                    flush()
                    tokens.append((String(c), number + 1))
                } else if c == " " || c == "\t" || c == "\r" {
                    flush()
                } else {
                    current.append(c)
                }
            }
            if quoted { throw DNSError(.badRecord, "line \(number + 1): a quote is not closed") }
            flush()
        }
        var i = 0
        func next(_ what: String) throws(DNSError) -> (String, Int) {
            guard i < tokens.count else { throw DNSError(.badRecord, "the file ends where \(what) should be") }
            defer { i += 1 }
            return tokens[i]
        }
        while i < tokens.count {
            let (word, line) = try next("key")
            guard word == "key" else { throw DNSError(.badRecord, "line \(line): '\(word)' where a key \"NAME\" { … }; should start") }
            let (name, nameLine) = try next("the key's name")
            guard try next("{").0 == "{" else { throw DNSError(.badRecord, "line \(nameLine): a { should follow the key's name") }
            var algorithm: String?
            var secret: [UInt8]?
            while true {
                let (field, fieldLine) = try next("algorithm, secret or }")
                if field == "}" { break }
                let (value, _) = try next("the value of \(field)")
                guard try next(";").0 == ";" else { throw DNSError(.badRecord, "line \(fieldLine): a ; should follow \(field) \(value)") }
                switch field {
                case "algorithm": algorithm = value.lowercased()
                case "secret":
                    guard let bytes = base64(value), !bytes.isEmpty else { throw DNSError(.badRecord, "line \(fieldLine): the secret is not base64") }
                    secret = bytes
                default: throw DNSError(.badRecord, "line \(fieldLine): a key has algorithm and secret, not \(field)")
                }
            }
            _ = try? next(";")
            guard algorithm == "hmac-sha256" else {
                throw DNSError(.badRecord, "line \(line): key \(name) uses \(algorithm ?? "no algorithm"); routerd signs with hmac-sha256 (tsig-keygen -a hmac-sha256)")
            }
            guard let secret else { throw DNSError(.badRecord, "line \(line): key \(name) has no secret") }
            keys.append(TSIGKey(name: try DNSName(name), secret: secret))
        }
        return keys
    }

    /// Standard base64 (RFC 4648 §4), padding optional; nil for anything else.
    static func base64(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
