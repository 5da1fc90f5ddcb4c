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

    /// The fields `headers`' `Connection` names, to drop with the hop-by-hop ones.
    init(connectionOf headers: HTTPHeaders) {
        for (name, value) in headers where Self.equal(name, "connection") {
            for token in value.split(separator: ",") {
                let token = RequestRules.trimmed(token)
                guard !token.isEmpty, !Self.hopByHop.contains(where: { Self.equal(token, $0) }),
                      !Self.protected.contains(where: { Self.equal(token, $0) }) else { continue }
                named.append(token.lowercased())
            }
        }
    }

    /// Whether a field named `name` stays on the next hop.
    func endToEnd(_ name: String) -> Bool {
        !Self.hopByHop.contains(where: { Self.equal(name, $0) }) && !named.contains(where: { Self.equal(name, $0) })
    }

    /// `name` equals `lower` (lower case), ignoring ASCII case.
    static func equal<S: StringProtocol>(_ name: S, _ lower: String) -> Bool {
        let a = name.utf8, b = lower.utf8
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
