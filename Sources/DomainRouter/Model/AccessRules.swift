/// Which client addresses may reach a route (the product's IP filtering): a gateway checks
/// the connection's own peer address against them, never a header a client could write.
/// A block in `deny` refuses an address even when `allow` names it too; an empty `allow`
/// admits every address that no `deny` block holds.
public struct AccessRules: Hashable, Sendable {
    /// Blocks whose addresses may connect; empty for everyone.
    public var allow: [CIDR]
    /// Blocks whose addresses may not, whatever `allow` says.
    public var deny: [CIDR]

    /// The most blocks each list may hold.
    public static let maximumBlocks = 64

    /// Rules from two lists of blocks; no arguments admit everyone.
    public init(allow: [CIDR] = [], deny: [CIDR] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Rules from the blocks' text (`10.0.0.0/8`, `2001:db8::/32`, a bare address); throws
    /// `invalidArgument` naming the first block that does not parse, or a list too long.
    public init(allow: [String], deny: [String]) throws(RouteError) {
        for (name, list) in [("allow", allow), ("deny", deny)] where list.count > Self.maximumBlocks {
            throw .invalidArgument("\(name) holds at most \(Self.maximumBlocks) address blocks, not \(list.count)")
        }
        self.allow = try allow.map { (text: String) throws(RouteError) in try CIDR(text) }
        self.deny = try deny.map { (text: String) throws(RouteError) in try CIDR(text) }
    }

    /// Whether there are no rules (everyone is admitted).
    public var isEmpty: Bool { allow.isEmpty && deny.isEmpty }

    /// Whether a client at `address` may reach the route. An IPv4 address seen as IPv6
    /// (`::ffff:10.1.2.3`, from a listener on `[::]`) is taken as the IPv4 address.
    public func admits(_ address: IPAddress) -> Bool {
        let address = address.unmapped
        if deny.contains(where: { $0.contains(address) }) { return false }
        return allow.isEmpty || allow.contains { $0.contains(address) }
    }
}

extension IPAddress {
    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); otherwise itself.
    public var unmapped: IPAddress {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return self }
        return IPAddress(bytes: Array(bytes[12...]))
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}
