/// Why the table refused a request: a stable `code` (the protocol sends its raw value) and a
/// message for a person (`description`), with what the refusal names where there is
/// something to name (the conflicting route, the oldest revision left, the name's rule).
///
/// A struct over an internal kind, so that new refusals do not break code that embeds the
/// table: compare `code`s, or read the optional facets, rather than switching over cases.
public struct RouteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable codes, the same the wire protocol uses (its raw values).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable snake_case text, as the protocol sends it.
        public let rawValue: String
        /// The code for its wire text; one this build does not know is kept as given.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The name does not parse; `nameError` says which rule it breaks.
        public static let invalidName = Code(rawValue: "invalid_name")
        /// Another argument is malformed (tunnel id, target, label, TTL, CIDR…).
        public static let badRequest = Code(rawValue: "bad_request")
        /// Nothing is routed there.
        public static let notFound = Code(rawValue: "not_found")
        /// The key, or a name above or below it, is held by another route; see `conflict`.
        public static let conflict = Code(rawValue: "conflict")
        /// The label is kept for admins.
        public static let reserved = Code(rawValue: "reserved")
        /// The principal may not do this.
        public static let forbidden = Code(rawValue: "forbidden")
        /// A port, a random-name draw or a revision lies outside what is available.
        public static let outOfRange = Code(rawValue: "out_of_range")
        /// The history asked for is gone; see `oldestRevision`.
        public static let compacted = Code(rawValue: "compacted")
        /// A subscriber did not keep up and was dropped.
        public static let slowConsumer = Code(rawValue: "slow_consumer")
        /// The store that decides changes cannot be reached; nothing was changed. Try again.
        public static let unavailable = Code(rawValue: "unavailable")
        /// The change would take a namespace, or one of its members, past a quota; see `quota`.
        public static let quotaExceeded = Code(rawValue: "quota_exceeded")

        /// Every code the table gives.
        public static let allCases: [Code] = [
            .invalidName, .badRequest, .notFound, .conflict, .reserved, .forbidden, .outOfRange, .compacted, .slowConsumer,
            .unavailable, .quotaExceeded,
        ]

        /// The text for a person: messages and logs.
        public var description: String { rawValue }
    }

    /// What was refused, with its facts (internal: the public face is `code` and the facets).
    package enum Kind: Hashable, Sendable {
        case invalidName(String, NameError)
        case invalidArgument(String)
        case notFound(String)
        case conflict(Conflict)
        case reserved(name: String, label: String)
        case forbidden(String)
        case outOfRange(String)
        case compacted(oldest: UInt64)
        case overflow(capacity: Int)
        case reset(String)
        case unavailable(String)
        case quotaExceeded(QuotaExceeded)
    }

    package let kind: Kind

    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// The name does not parse; the payload is the input and the rule it breaks.
    public static func invalidName(_ input: String, _ why: NameError) -> RouteError { RouteError(.invalidName(input, why)) }
    /// Another argument is malformed (tunnel id, target, label, TTL, CIDR…).
    public static func invalidArgument(_ message: String) -> RouteError { RouteError(.invalidArgument(message)) }
    /// Nothing is routed there; the message says what was looked for.
    public static func notFound(_ message: String) -> RouteError { RouteError(.notFound(message)) }
    /// The key, or a name above or below it, is held by another route.
    public static func conflict(_ conflict: Conflict) -> RouteError { RouteError(.conflict(conflict)) }
    /// The label is reserved for admins.
    public static func reserved(name: String, label: String) -> RouteError { RouteError(.reserved(name: name, label: label)) }
    /// The principal may not do this.
    public static func forbidden(_ message: String) -> RouteError { RouteError(.forbidden(message)) }
    /// A port, a random-name draw or a revision lies outside what is available.
    public static func outOfRange(_ message: String) -> RouteError { RouteError(.outOfRange(message)) }
    /// The history asked for is gone; the oldest revision still available is given.
    public static func compacted(oldest: UInt64) -> RouteError { RouteError(.compacted(oldest: oldest)) }
    /// A subscriber did not keep up and its buffer filled; its stream ends with this.
    public static func overflow(capacity: Int) -> RouteError { RouteError(.overflow(capacity: capacity)) }
    /// The table was loaded anew from its store (the store lost or replaced its data): every
    /// revision before the reset means nothing now. Its code is `compacted`.
    public static func reset(_ message: String) -> RouteError { RouteError(.reset(message)) }
    /// The store that decides changes is out of reach; the message names it. Nothing changed.
    public static func unavailable(_ message: String) -> RouteError { RouteError(.unavailable(message)) }
    /// The change would take a namespace (or a member in it) past one of its quotas.
    public static func quotaExceeded(_ quota: QuotaExceeded) -> RouteError { RouteError(.quotaExceeded(quota)) }

    /// The stable code of the refusal.
    public var code: Code {
        switch kind {
        case .invalidName: return .invalidName
        case .invalidArgument: return .badRequest
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .reserved: return .reserved
        case .forbidden: return .forbidden
        case .outOfRange: return .outOfRange
        case .compacted, .reset: return .compacted
        case .overflow: return .slowConsumer
        case .unavailable: return .unavailable
        case .quotaExceeded: return .quotaExceeded
        }
    }

    /// For `quota_exceeded`: the namespace, the limit and the use.
    public var quota: QuotaExceeded? {
        if case .quotaExceeded(let q) = kind { return q }
        return nil
    }

    /// For `conflict`: what the add collided with.
    public var conflict: Conflict? {
        if case .conflict(let c) = kind { return c }
        return nil
    }

    /// For `invalid_name`: the input and the rule it breaks.
    public var invalidName: (input: String, rule: NameError)? {
        if case .invalidName(let input, let rule) = kind { return (input, rule) }
        return nil
    }

    /// For `reserved`: the name and its reserved label.
    public var reservedLabel: (name: String, label: String)? {
        if case .reserved(let name, let label) = kind { return (name, label) }
        return nil
    }

    /// Whether the history ended because the table was reset from its store (`store_reset`),
    /// rather than trimmed.
    public var isReset: Bool {
        if case .reset = kind { return true }
        return false
    }

    /// For `compacted`: the oldest revision still available.
    public var oldestRevision: UInt64? {
        if case .compacted(let oldest) = kind { return oldest }
        return nil
    }

    /// The text for a person: messages and logs.
    public var description: String {
        switch kind {
        case .invalidName(let input, let why):
            return "invalid name '\(input.clipped(80))': \(why)"
        case .invalidArgument(let message), .notFound(let message), .forbidden(let message),
             .outOfRange(let message), .reset(let message), .unavailable(let message):
            return message
        case .conflict(let conflict):
            return conflict.description
        case .reserved(let name, let label):
            return "\(name) is reserved ('\(label)' is kept for the operator); choose another name or add --random"
        case .compacted(let oldest):
            return "the history asked for is compacted; the oldest revision still available is \(oldest)"
        case .overflow(let capacity):
            return "the subscriber fell \(capacity) events behind and was dropped; resubscribe from the last revision seen"
        case .quotaExceeded(let quota):
            return quota.description
        }
    }
}

/// A quota a change would pass: which namespace (and member), which limit, and how much is used.
public struct QuotaExceeded: Hashable, Sendable, CustomStringConvertible {
    /// Which limit: `routes`, `tcp_ports`, `session_routes` or `ttl`.
    public var limit: String
    public var namespace: String
    /// For a member's quota, the member; nil for the namespace's own.
    public var member: String?
    /// The quota (for `ttl`, in seconds).
    public var quota: Int
    /// What is held now (for `ttl`, the TTL asked for, in seconds; nil: no TTL).
    public var use: Int?

    public init(limit: String, namespace: String, member: String?, quota: Int, use: Int?) {
        self.limit = limit
        self.namespace = namespace
        self.member = member
        self.quota = quota
        self.use = use
    }

    public var description: String {
        let whose = member.map { "\($0)'s quota in namespace \(namespace)" } ?? "namespace \(namespace)'s quota"
        switch limit {
        case "ttl":
            let asked = use.map { "a TTL of \($0)s" } ?? "no TTL (a route that never lapses)"
            return "\(asked) is past \(whose): the longest TTL is \(quota)s; add with --ttl \(quota)s or less"
        default:
            let what = limit == "tcp_ports" ? "TCP ports" : limit == "session_routes" ? "session routes" : "routes"
            return "\(whose) of \(quota) \(what) is used up (\(use ?? 0) held): delete one first, or ask an admin to raise it"
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
        /// No route has the name, but it is kept for the owner of the route that lapsed there
        /// (a state file's `--hold-released`).
        case held
    }

    /// Who holds the key; shown to admins and to the holder's owner only.
    public struct Holder: Hashable, Sendable {
        /// The holder's owner.
        public var owner: String
        /// The holder's tunnel.
        public var tunnel: TunnelID?
        /// When the holder's route lapses, if it does.
        public var expiresAt: Timestamp?
    }

    /// The key that was asked for.
    public var key: String
    /// Where the held key stands relative to it.
    public var relation: Relation
    /// The key that holds it.
    public var heldKey: String
    /// Who holds it, shown to admins and to the holder's owner only.
    public var holder: Holder?
    /// Whether the key is held by the asker's own route (then `replace` would move it).
    public var isOwn: Bool
    /// For `held`: when the name is free again.
    public var heldUntil: Timestamp? = nil

    /// A name kept for the owner of the route that lapsed there, until `until`; `owner` only
    /// for those who may see it.
    package static func held(_ key: String, until: Timestamp, owner: String?) -> Conflict {
        Conflict(key: key, relation: .held, heldKey: key, holder: owner.map { Holder(owner: $0, tunnel: nil, expiresAt: nil) },
                 isOwn: false, heldUntil: until)
    }

    /// The text for a person: messages and logs.
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
        case .held:
            let owner = holder.map { " (\($0.owner))" } ?? ""
            return "\(key) is held for its last owner\(owner) until \(heldUntil.map { "\($0)" } ?? "?") after their route lapsed (routerd --hold-released); choose another name or add --random"
        }
    }
}
