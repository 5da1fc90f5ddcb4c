import NIOHTTP1

/// Which fields of a message stay on the next hop, decided without copying the headers:
/// the hop-by-hop ones (RFC 9110 §7.6.1) and those a `Connection` field names are dropped,
/// except the message's framing and its Host, which a `Connection` cannot remove (the framing
/// is written by the gateway anyway, and Host routes the request). Names compare as ASCII,
/// case-insensitively.
struct HeaderNames {
    /// Headers that describe one connection, never forwarded; `Connection` may name more.
    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                           "proxy-authorization", "proxy-authenticate"]

    /// Fields a `Connection` header may not remove.
    static let protected = ["content-length", "transfer-encoding", "host"]

    static let framing = ["content-length", "transfer-encoding"]

    /// The lower-case names a `Connection` field named beyond the hop-by-hop ones.
    private var named: [String] = []

    /// The fields `headers`' `Connection` names, to drop with the hop-by-hop ones. Nothing is
    /// allocated unless a field names something beyond those (`Connection: keep-alive` names
    /// nothing more).
    init(connectionOf headers: HTTPHeaders) {
        for (name, value) in headers where Self.equal(name, "connection") {
            let utf8 = value.utf8
            var start = utf8.startIndex
            while start < utf8.endIndex {
                let comma = utf8[start...].firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
                let token = RequestRules.trimmed(value[start..<comma])
                start = comma < utf8.endIndex ? utf8.index(after: comma) : comma
                guard !token.isEmpty, !Self.hopByHop.contains(where: { Self.equal(token, $0) }),
                      !Self.protected.contains(where: { Self.equal(token, $0) }) else { continue }
                named.append(token.lowercased())
            }
        }
    }

    /// Whether a field named `name` stays on the next hop.
    func endToEnd(_ name: String) -> Bool {
        if Self.isHopByHop(name) { return false }
        return named.isEmpty || !named.contains(where: { Self.equal(name, $0) })
    }

    /// One of `hopByHop`, told by length first: most fields are none of them.
    static func isHopByHop(_ name: String) -> Bool {
        isHopByHop(name.utf8.count) { equal(name, $0) }
    }

    static func isHopByHop(_ name: Slice<UnsafeRawBufferPointer>) -> Bool {
        isHopByHop(name.count) { equal(name, $0) }
    }

    @inline(__always)
    private static func isHopByHop(_ count: Int, _ equal: (String) -> Bool) -> Bool {
        switch count {
        case 2: equal("te")
        case 7: equal("trailer") || equal("upgrade")
        case 10: equal("connection") || equal("keep-alive")
        case 16: equal("proxy-connection")
        case 18: equal("proxy-authenticate")
        case 19: equal("proxy-authorization")
        default: false
        }
    }

    /// `name` equals `lower` (lower case), ignoring ASCII case.
    static func equal(_ name: String, _ lower: String) -> Bool {
        equal(name.utf8, lower.utf8)
    }

    static func equal(_ name: Substring, _ lower: String) -> Bool {
        equal(name.utf8, lower.utf8)
    }

    static func equal(_ bytes: Slice<UnsafeRawBufferPointer>, _ lower: String) -> Bool {
        equal(bytes, lower.utf8)
    }

    @inline(__always)
    private static func equal<A: Collection<UInt8>>(_ a: A, _ b: String.UTF8View) -> Bool {
        guard a.count == b.count else { return false }
        var i = b.makeIterator()
        for byte in a {
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            guard folded == i.next() else { return false }
        }
        return true
    }

    /// Whether `name` is one of `names` (lower case), ignoring ASCII case.
    static func any(_ name: String, of names: [String]) -> Bool {
        names.contains { equal(name, $0) }
    }
}
