/// Why the table refused a request. `code` is the stable snake_case name the protocol sends;
/// `description` is the message for a person.
public enum RouteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name does not parse; the payload is the input and the rule it breaks.
    case invalidName(String, NameError)
    /// Another argument is malformed (tunnel id, target, label, TTL, CIDR…).
    case invalidArgument(String)
    /// Nothing is routed there; the message says what was looked for.
    case notFound(String)
    /// The key, or a name above or below it, is held by another route.
    case conflict(Conflict)
    /// The label is reserved for admins.
    case reserved(name: String, label: String)
    /// The principal may not do this.
    case forbidden(String)
    /// A port, a random-name draw or a revision lies outside what is available.
    case outOfRange(String)
    /// The history asked for is gone; the oldest revision still available is given.
    case compacted(oldest: UInt64)
    /// A subscriber did not keep up and its buffer filled; its stream ends with this.
    case overflow(capacity: Int)

    /// Stable codes, the same that the wire protocol uses.
    public enum Code: String, Hashable, Sendable {
        case invalidName = "invalid_name"
        case badRequest = "bad_request"
        case notFound = "not_found"
        case conflict
        case reserved
        case forbidden
        case outOfRange = "out_of_range"
        case compacted
        case slowConsumer = "slow_consumer"
    }

    public var code: Code {
        switch self {
        case .invalidName: return .invalidName
        case .invalidArgument: return .badRequest
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .reserved: return .reserved
        case .forbidden: return .forbidden
        case .outOfRange: return .outOfRange
        case .compacted: return .compacted
        case .overflow: return .slowConsumer
        }
    }

    public var description: String {
        switch self {
        case .invalidName(let input, let why):
            return "invalid name '\(input.prefix(80))': \(why)"
        case .invalidArgument(let message), .notFound(let message), .forbidden(let message),
             .outOfRange(let message):
            return message
        case .conflict(let conflict):
            return conflict.description
        case .reserved(let name, let label):
            return "\(name) is reserved ('\(label)' is kept for the operator); choose another name or add --random"
        case .compacted(let oldest):
            return "the history asked for is compacted; the oldest revision still available is \(oldest)"
        case .overflow(let capacity):
            return "the subscriber fell \(capacity) events behind and was dropped; resubscribe from the last revision seen"
        }
    }
}

/// What a refused add collided with.
public struct Conflict: Hashable, Sendable, CustomStringConvertible {
    /// Where the held key stands relative to the requested one.
    public enum Relation: String, Hashable, Sendable {
        /// The same key is taken.
        case same
        /// A route above the requested name (an ancestor, or its wildcard) owns the subtree.
        case above
        /// Routes below the requested name belong to another owner.
        case below
    }

    /// Who holds the key; shown to admins and to the holder's owner only.
    public struct Holder: Hashable, Sendable {
        public var owner: String
        public var tunnel: TunnelID?
        public var expiresAt: Timestamp?
    }

    public var key: String
    public var relation: Relation
    public var heldKey: String
    public var holder: Holder?
    /// Whether the key is held by the asker's own route (then `replace` would move it).
    public var isOwn: Bool

    public var description: String {
        var by = ""
        if let holder {
            if let tunnel = holder.tunnel { by += " by tunnel \(tunnel)" }
            by += " (owner \(holder.owner))"
            if let expires = holder.expiresAt { by += " until \(expires)" }
        }
        switch relation {
        case .same where isOwn:
            return "\(key) is already routed to your tunnel \(holder?.tunnel?.rawValue ?? "?"); add --replace to move it"
        case .same:
            return "\(key) is taken\(by); choose another name or add --random"
        case .above:
            return "\(key) is inside \(heldKey), which is held\(by.isEmpty ? " by another owner" : by); choose a name outside it or add --random"
        case .below:
            return "\(key) would cover names below it that belong to another owner\(by); choose another name or add --random"
        }
    }
}
