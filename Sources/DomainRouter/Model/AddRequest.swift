/// What to add: a key (or a random name, or a free port) and the route's attributes.
public struct AddRequest: Sendable {
    /// How the key is chosen.
    public enum Name: Sendable, Hashable {
        /// This exact key (host, wildcard or `tcp:N`).
        case key(RouteKey)
        /// A random label under `domain` (canonical), or under the only base domain.
        case random(domain: String?)
        /// A free port in the configured range.
        case tcpAuto
    }

    /// The key to add, or a random name or free port to pick.
    public var name: Name
    /// The tunnel; nil lets the table assign a fresh UUID.
    public var tunnel: TunnelID?
    /// Where the gateway forwards.
    public var target: RouteTarget?
    /// The route lapses this long after the add (and after each touch); nil for no expiry.
    public var ttl: Duration?
    /// Binds the route to a session (connection) id: it goes `grace` after the session ends.
    public var session: UInt64?
    /// Take the key over from another tunnel (of the same owner, or any owner for admins).
    public var replace: Bool
    /// Free-form labels.
    public var labels: [String: String]
    /// Which client addresses a gateway lets through.
    public var access: AccessRules
    /// Admins only: the owner to record instead of the admin.
    public var owner: String?

    /// A request for `name`; the other attributes default to none.
    public init(
        _ name: Name, tunnel: TunnelID? = nil, target: RouteTarget? = nil, ttl: Duration? = nil,
        session: UInt64? = nil, replace: Bool = false, labels: [String: String] = [:],
        access: AccessRules = AccessRules(), owner: String? = nil
    ) {
        self.name = name
        self.tunnel = tunnel
        self.target = target
        self.ttl = ttl
        self.session = session
        self.replace = replace
        self.labels = labels
        self.access = access
        self.owner = owner
    }

    /// Checks labels and TTL; the table calls this before taking its lock.
    func validate() throws(RouteError) {
        if let ttl { try AddRequest.validate(ttl: ttl) }
        try AddRequest.validate(labels: labels)
        try AddRequest.validate(access: access)
        if let owner, owner.isEmpty || owner.utf8.count > 128 {
            throw .invalidArgument("owner must be 1 to 128 characters")
        }
    }

    /// At most 64 labels, keys of 1-63 label-key bytes, values of at most 256 bytes.
    static func validate(labels: [String: String]) throws(RouteError) {
        if labels.count > 64 { throw .invalidArgument("a route has at most 64 labels, not \(labels.count)") }
        for (key, value) in labels {
            guard (1...63).contains(key.utf8.count), key.utf8.allSatisfy(AddRequest.isLabelKeyByte) else {
                throw .invalidArgument("label key '\(key.clipped(70))' must be 1-63 characters of letters, digits, '.', '_', '/' and '-'")
            }
            guard value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalidArgument("label '\(key)' has a value longer than 256 bytes or with control characters")
            }
        }
    }

    /// At most `AccessRules.maximumBlocks` blocks in each list.
    static func validate(access: AccessRules) throws(RouteError) {
        // Each list on its own: an array of the two would be made (and its lists retained) on
        // every add.
        try validate(blocks: access.allow.count, of: "allow")
        try validate(blocks: access.deny.count, of: "deny")
    }

    private static func validate(blocks: Int, of name: String) throws(RouteError) {
        if blocks > AccessRules.maximumBlocks {
            throw .invalidArgument("\(name) holds at most \(AccessRules.maximumBlocks) address blocks, not \(blocks)")
        }
    }

    static func validate(ttl: Duration) throws(RouteError) {
        guard ttl >= .milliseconds(1), ttl <= .seconds(366 * 86_400) else {
            throw .invalidArgument("ttl must be between 1 ms and 366 days")
        }
    }

    static func isLabelKeyByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// What an add did.
public struct AddResult: Hashable, Sendable {
    /// The route as it now is.
    public var route: Route
    /// True for a new route (`add` event); false for a refresh or replace (`update` event).
    public var created: Bool
    /// The revision of the change.
    public var revision: UInt64
}
