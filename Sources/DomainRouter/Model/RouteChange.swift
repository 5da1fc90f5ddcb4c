/// What an `update` changes in a route, in place: its target, labels and access rules. The key,
/// tunnel, owner, session and expiry stay; nil leaves a field as it is.
public struct RouteChange: Sendable, Hashable {
    /// A new target; `.some(nil)` takes the target away (the tunnel is offline).
    public var target: RouteTarget??
    /// The route's labels, all of them (the old ones go).
    public var labels: [String: String]?
    /// New allow blocks (the deny blocks stay unless given too).
    public var allow: [CIDR]?
    /// New deny blocks.
    public var deny: [CIDR]?

    public init(target: RouteTarget?? = nil, labels: [String: String]? = nil, allow: [CIDR]? = nil, deny: [CIDR]? = nil) {
        self.target = target
        self.labels = labels
        self.allow = allow
        self.deny = deny
    }

    /// Whether it changes nothing at all.
    public var isEmpty: Bool { target == nil && labels == nil && allow == nil && deny == nil }

    /// Checks the new values as an add checks them.
    func validate() throws(RouteError) {
        guard !isEmpty else { throw .invalidArgument("update changes target, labels, allow or deny: give at least one") }
        if let labels { try AddRequest.validate(labels: labels) }
        try AddRequest.validate(access: AccessRules(allow: allow ?? [], deny: deny ?? []))
    }
}
