// The DNS wire format (RFC 1035 §3, §4.1; RFC 6891 for EDNS(0)) written by hand: no Swift DNS
// library is reachable here (the package mirror has none), and routerd needs only a small part of
// it — queries in, authoritative answers out, NOTIFY, transfers and UPDATE later — with strict
// bounds on everything it reads from the network.

/// A domain name as the wire carries it: labels of 1 to 63 bytes, 255 bytes in all with their
/// length bytes and the root. Comparison ignores ASCII case (RFC 4343); the bytes keep the case
/// they were given in, so an answer can echo a query's name exactly (resolvers that randomize
/// case check it).
public struct DNSName: Sendable, CustomStringConvertible {
    /// The uncompressed wire form: each label with its length byte, then the root's 0.
    public private(set) var wire: [UInt8]

    /// The longest name the wire allows, length bytes and the root included.
    public static let maximumLength = 255

    /// The root, `.`.
    public static let root = DNSName(trustedWire: [0])

    init(trustedWire: [UInt8]) {
        wire = trustedWire
    }

    /// A name from text such as `www.example.com` (a trailing dot is optional; `.` is the root).
    /// Throws for an empty label, a label over 63 bytes or a name over 255.
    public init(_ text: String) throws(DNSError) {
        var wire: [UInt8] = []
        wire.reserveCapacity(text.utf8.count + 2)
        if text != "." && !text.isEmpty {
            var labels = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            if labels.last?.isEmpty == true { labels.removeLast() }
            for label in labels {
                guard !label.isEmpty else { throw DNSError(.badName, "'\(text)' has an empty label") }
                guard label.count <= 63 else { throw DNSError(.badName, "a label of '\(text)' is longer than 63 bytes") }
                wire.append(UInt8(label.count))
                wire.append(contentsOf: label)
            }
        }
        wire.append(0)
        guard wire.count <= Self.maximumLength else { throw DNSError(.badName, "'\(text)' is longer than 255 bytes") }
        self.wire = wire
    }

    /// The labels, leftmost first.
    public var labels: [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while wire[i] != 0 {
            let n = Int(wire[i])
            out.append(wire[(i + 1)..<(i + 1 + n)])
            i += 1 + n
        }
        return out
    }

    /// How many labels (the root has none).
    public var labelCount: Int {
        var count = 0
        var i = 0
        while wire[i] != 0 {
            count += 1
            i += 1 + Int(wire[i])
        }
        return count
    }

    /// Whether this is the root.
    public var isRoot: Bool { wire.count == 1 }

    /// The name with ASCII letters in lowercase: the form names are compared and stored in.
    public func lowercased() -> DNSName {
        var copy = wire
        for i in copy.indices where copy[i] >= 0x41 && copy[i] <= 0x5A {
            copy[i] |= 0x20
        }
        // Length bytes are at most 63 (0x3F), below 'A': lowercasing them changes nothing.
        return DNSName(trustedWire: copy)
    }

    /// The name without its leftmost label; nil for the root.
    public func parent() -> DNSName? {
        guard !isRoot else { return nil }
        return DNSName(trustedWire: Array(wire[(1 + Int(wire[0]))...]))
    }

    /// `label.name`: throws when the label or the whole would be too long.
    public func prepending(_ label: String) throws(DNSError) -> DNSName {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { throw DNSError(.badName, "the label '\(label)' is empty or longer than 63 bytes") }
        guard wire.count + 1 + bytes.count <= Self.maximumLength else { throw DNSError(.badName, "\(label).\(self) is longer than 255 bytes") }
        return DNSName(trustedWire: [UInt8(bytes.count)] + bytes + wire)
    }

    /// Whether this name is `other` or lies below it (ASCII case ignored).
    public func isAtOrBelow(_ other: DNSName) -> Bool {
        let suffix = other.wire.count
        guard wire.count >= suffix else { return false }
        // The suffix must start on a label boundary.
        var i = 0
        while wire.count - i > suffix {
            i += 1 + Int(wire[i])
        }
        guard wire.count - i == suffix else { return false }
        for j in 0..<suffix where Self.fold(wire[i + j]) != Self.fold(other.wire[j]) { return false }
        return true
    }

    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// The name as text: labels joined by dots, no trailing dot (`.` for the root). Bytes other
    /// than letters, digits, `-`, `_` and `*` are written `\DDD` (RFC 1035 §5.1), a dot in a
    /// label `\.`.
    public var description: String {
        guard !isRoot else { return "." }
        var out = ""
        for (n, label) in labels.enumerated() {
            if n > 0 { out.append(".") }
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out.append("\\")
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let digits = String(byte)
                    out.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
        }
        return out
    }

    /// The name as a host name routerd's table reads (lowercase, dotted, no trailing dot), or
    /// nil when a label holds a byte no host name has (anything but letters, digits, `-`,
    /// `_`, and `*` as a whole leftmost label).
    public var hostName: String? {
        guard !isRoot else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(wire.count)
        var i = 0
        var first = true
        while wire[i] != 0 {
            let n = Int(wire[i])
            if !first { out.append(UInt8(ascii: ".")) }
            for byte in wire[(i + 1)..<(i + 1 + n)] {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    out.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    out.append(byte | 0x20)
                case UInt8(ascii: "*") where first && n == 1:
                    out.append(byte)
                default:
                    return nil
                }
            }
            first = false
            i += 1 + n
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension DNSName: Hashable {
    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.wire.count == b.wire.count else { return false }
        for i in a.wire.indices where fold(a.wire[i]) != fold(b.wire[i]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(Self.fold(byte)) }
    }
}
