/// The rules a table enforces. Every field has the daemon's default.
public struct RouteTableConfiguration: Sendable {
    /// Base domains; a bare label is registered under the only one. Default: `localhost`, whose
    /// subdomains resolve to loopback on most systems.
    public var baseDomains: [String]
    /// Labels directly under a base domain that only admins may take.
    public var reservedLabels: Set<String>
    /// Length of random subdomains (characters of `[a-z0-9]`).
    public var randomLength: Int
    /// How many random draws an add makes before giving up with `out_of_range`.
    public var randomAttempts: Int
    /// Ports non-admins may claim, and where `tcp:auto` picks from.
    public var tcpPorts: ClosedRange<UInt16>
    /// Address blocks a non-admin's `target` may point into (default: none).
    public var allowedTargets: [CIDR]
    /// How many recent events the table keeps for watchers that resume.
    public var historyLimit: Int
    /// Default per-subscriber buffer, in events.
    public var subscriberBuffer: Int

    /// The labels kept for admins unless configured otherwise.
    public static let defaultReservedLabels: Set<String> = ["www", "api", "admin", "mail", "ns1", "ns2", "localhost"]

    /// A configuration; `validated()` checks it when a table is made.
    public init(
        baseDomains: [String] = ["localhost"],
        reservedLabels: Set<String> = RouteTableConfiguration.defaultReservedLabels,
        randomLength: Int = 10,
        randomAttempts: Int = 16,
        tcpPorts: ClosedRange<UInt16> = 49000...49999,
        allowedTargets: [CIDR] = [],
        historyLimit: Int = 65_536,
        subscriberBuffer: Int = 4_096
    ) {
        self.baseDomains = baseDomains
        self.reservedLabels = reservedLabels
        self.randomLength = randomLength
        self.randomAttempts = randomAttempts
        self.tcpPorts = tcpPorts
        self.allowedTargets = allowedTargets
        self.historyLimit = historyLimit
        self.subscriberBuffer = subscriberBuffer
    }

    /// Canonical base domains and checked limits; the table calls this once.
    func validated() throws(RouteError) -> RouteTableConfiguration {
        var copy = self
        guard !baseDomains.isEmpty else { throw .invalidArgument("at least one base domain is needed") }
        var seen = Set<String>()
        copy.baseDomains = []
        for domain in baseDomains {
            let name: String
            do { name = try HostNames.canonicalize(domain, as: .name) } catch { throw .invalidName(domain, error) }
            if seen.insert(name).inserted { copy.baseDomains.append(name) }
        }
        // Longest first, so the most specific base wins.
        copy.baseDomains.sort { $0.utf8.count > $1.utf8.count }
        copy.reservedLabels = Set(reservedLabels.map { $0.lowercased() })
        guard (1...63).contains(randomLength) else {
            throw .invalidArgument("the random subdomain length must be 1 to 63 characters, not \(randomLength)")
        }
        guard randomAttempts >= 1 else { throw .invalidArgument("random attempts must be at least 1") }
        guard tcpPorts.lowerBound >= 1 else { throw .invalidArgument("the TCP port range must start at 1 or above") }
        guard historyLimit >= 1 else { throw .invalidArgument("the event history must hold at least 1 event") }
        guard subscriberBuffer >= 1 else { throw .invalidArgument("the subscriber buffer must hold at least 1 event") }
        return copy
    }
}
