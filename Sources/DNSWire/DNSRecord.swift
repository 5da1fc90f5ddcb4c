/// A resource record: owner name, type, class, TTL and data.
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var recordClass: DNSClass
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: DNSType? = nil, recordClass: DNSClass = .internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type ?? data.type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// The data of the record types routerd reads and writes; any other type is kept as its bytes.
public enum DNSRecordData: Hashable, Sendable {
    case a(IPv4)
    case aaaa(IPv6)
    case ns(DNSName)
    case cname(DNSName)
    case soa(SOA)
    /// Character strings of at most 255 bytes each.
    case txt([[UInt8]])
    /// Bytes of a type read as is (RFC 3597), or of a record whose data is empty (an UPDATE's
    /// delete).
    case opaque([UInt8])

    /// The type whose data this is (`opaque` has none of its own: give the record's type).
    public var type: DNSType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .soa: return .soa
        case .txt: return .txt
        case .opaque: return DNSType(rawValue: 0)
        }
    }

    /// An IPv4 address: four bytes in network order.
    public struct IPv4: Hashable, Sendable, CustomStringConvertible {
        public var bytes: (UInt8, UInt8, UInt8, UInt8)

        public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { bytes = (a, b, c, d) }

        /// From dotted-quad text; nil when it is not one.
        public init?(_ text: String) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var values: [UInt8] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let v = UInt8(part),
                      part == "0" || !part.hasPrefix("0") else { return nil }
                values.append(v)
            }
            bytes = (values[0], values[1], values[2], values[3])
        }

        public var description: String { "\(bytes.0).\(bytes.1).\(bytes.2).\(bytes.3)" }

        public static func == (a: IPv4, b: IPv4) -> Bool { a.bytes == b.bytes }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(bytes.0); hasher.combine(bytes.1); hasher.combine(bytes.2); hasher.combine(bytes.3)
        }
    }

    /// An IPv6 address: sixteen bytes in network order.
    public struct IPv6: Hashable, Sendable, CustomStringConvertible {
        public var bytes: [UInt8]

        /// From sixteen bytes.
        public init?(bytes: [UInt8]) {
            guard bytes.count == 16 else { return nil }
            self.bytes = bytes
        }

        /// From RFC 4291 text (`2001:db8::1`, with `::` and an embedded IPv4 tail); nil when it
        /// is not one.
        public init?(_ text: String) {
            var head: [UInt16] = []
            var tail: [UInt16] = []
            var sawGap = false
            var halves: [String] = []
            let scalars = Array(text.utf8)
            if let gap = scalars.indices.dropLast().first(where: { scalars[$0] == UInt8(ascii: ":") && scalars[$0 + 1] == UInt8(ascii: ":") }) {
                let rest = Array(scalars[(gap + 2)...])
                guard !rest.indices.dropLast().contains(where: { rest[$0] == UInt8(ascii: ":") && rest[$0 + 1] == UInt8(ascii: ":") }) else { return nil }
                halves = [String(decoding: scalars[..<gap], as: UTF8.self), String(decoding: rest, as: UTF8.self)]
            } else {
                halves = [text]
            }
            guard !text.isEmpty else { return nil }
            func groups(_ part: String) -> [UInt16]? {
                guard !part.isEmpty else { return [] }
                var out: [UInt16] = []
                let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
                for (i, piece) in pieces.enumerated() {
                    if i == pieces.count - 1, piece.contains("."), let v4 = IPv4(String(piece)) {
                        out.append(UInt16(v4.bytes.0) << 8 | UInt16(v4.bytes.1))
                        out.append(UInt16(v4.bytes.2) << 8 | UInt16(v4.bytes.3))
                        continue
                    }
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let v = UInt16(piece, radix: 16) else { return nil }
                    out.append(v)
                }
                return out
            }
            guard let first = groups(halves[0]) else { return nil }
            head = first
            if halves.count == 2 {
                sawGap = true
                guard let second = groups(halves[1]) else { return nil }
                tail = second
            }
            let count = head.count + tail.count
            guard sawGap ? count < 8 : count == 8 else { return nil }
            let all = head + Array(repeating: 0, count: 8 - count) + tail
            bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        }

        /// RFC 5952 text: lowercase, the longest run of zero groups as `::`.
        public var description: String {
            let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
            var best = (start: -1, length: 0)
            var i = 0
            while i < 8 {
                guard groups[i] == 0 else { i += 1; continue }
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.length && j - i > 1 { best = (i, j - i) }
                i = j
            }
            func hex(_ range: Range<Int>) -> String { range.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
            guard best.start >= 0 else { return hex(0..<8) }
            return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
        }
    }

    /// A zone's start of authority (RFC 1035 §3.3.13).
    public struct SOA: Hashable, Sendable {
        public var primary: DNSName
        public var mailbox: DNSName
        public var serial: UInt32
        public var refresh: UInt32
        public var retry: UInt32
        public var expire: UInt32
        public var minimum: UInt32

        public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
            self.primary = primary
            self.mailbox = mailbox
            self.serial = serial
            self.refresh = refresh
            self.retry = retry
            self.expire = expire
            self.minimum = minimum
        }
    }
}

extension DNSRecord: CustomStringConvertible {
    /// The record in zone-file form, as dig prints it: `app.example.com. 30 IN A 192.0.2.10`.
    public var description: String {
        let owner = name.isRoot ? "." : "\(name)."
        let rclass = recordClass == .internet ? "IN" : "CLASS\(recordClass.rawValue)"
        let text: String
        switch data {
        case .a(let v4): text = v4.description
        case .aaaa(let v6): text = v6.description
        case .ns(let target), .cname(let target): text = target.isRoot ? "." : "\(target)."
        case .soa(let soa):
            text = "\(soa.primary). \(soa.mailbox). \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .txt(let strings):
            text = strings.map { "\"" + String(decoding: $0, as: UTF8.self) + "\"" }.joined(separator: " ")
        case .opaque(let bytes):
            text = "\\# \(bytes.count) " + bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        return "\(owner) \(ttl) \(rclass) \(type) \(text)"
    }
}
