import DNSWire

/// What routerd serves in DNS: its zones, their name servers and SOA, the addresses every
/// routed name answers with, and the TTLs. Checked once, when routerd starts.
package struct DNSZones: Sendable {
    /// The zone apexes, lowercase, longest first (the closest enclosing zone answers).
    package let zones: [DNSName]
    /// The NS records of every zone.
    package let nameservers: [DNSName]
    /// Addresses of name servers that lie inside a zone (they need them to be found).
    package let glue: [DNSName: [DNSRecordData]]
    /// The SOA's mailbox (`hostmaster.example.com` for hostmaster@example.com); nil: the
    /// zone's own `hostmaster.ZONE`.
    package let hostmaster: DNSName?
    /// A and AAAA data every routed name answers with: the gateway's addresses.
    package let addresses: [DNSRecordData]
    /// The TTL of the A, AAAA and NS records: how long a deleted route may still resolve in a
    /// cache.
    package let ttl: UInt32
    /// The SOA minimum, and the SOA record's own TTL: how long a cache keeps a "no such name"
    /// (RFC 2308), so a new route resolves within it.
    package let negativeTTL: UInt32
    /// The SOA's refresh, retry and expire, for secondaries.
    package let refresh: UInt32
    package let retry: UInt32
    package let expire: UInt32
    /// The largest UDP answer sent, whatever a client's EDNS allows (RFC 9715's 1232 by default).
    package let udpLimit: Int

    /// Throws naming the first problem: a name that is not one, an in-zone name server without
    /// an address, no address for routed names.
    package init(zones: [String], nameservers: [(name: String, addresses: [String])], hostmaster: String?,
                 addresses: [String], ttl: UInt32, negativeTTL: UInt32, refresh: UInt32 = 300, retry: UInt32 = 60,
                 expire: UInt32 = 1_209_600, udpLimit: Int = 1232) throws(DNSError) {
        guard !zones.isEmpty else { throw DNSError(.badName, "no zone to serve: give --dns-zone or --domain") }
        self.zones = try zones.map { (z: String) throws(DNSError) in try DNSName(z).lowercased() }
            .sorted { $0.wire.count > $1.wire.count }
        guard !addresses.isEmpty else { throw DNSError(.badRecord, "no address for routed names: give --dns-address IP (the gateway's)") }
        self.addresses = try addresses.map { (text: String) throws(DNSError) -> DNSRecordData in try Self.address(text) }
        guard !nameservers.isEmpty else { throw DNSError(.badName, "no name server for the zones' NS records: give --dns-ns NAME") }
        var names: [DNSName] = []
        var glue: [DNSName: [DNSRecordData]] = [:]
        for (name, texts) in nameservers {
            let ns = try DNSName(name).lowercased()
            names.append(ns)
            let inZone = self.zones.contains { ns.isAtOrBelow($0) }
            if inZone && texts.isEmpty {
                throw DNSError(.badRecord, "the name server \(ns) lies in a zone routerd serves, so it needs its address: --dns-ns \(ns)=IP")
            }
            if !texts.isEmpty { glue[ns] = try texts.map { (text: String) throws(DNSError) -> DNSRecordData in try Self.address(text) } }
        }
        self.nameservers = names
        self.glue = glue
        self.hostmaster = try hostmaster.map { (text: String) throws(DNSError) in try Self.mailbox(text) }
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.udpLimit = max(512, min(udpLimit, 65_535))
    }

    /// An IPv4 or IPv6 address as A or AAAA data.
    static func address(_ text: String) throws(DNSError) -> DNSRecordData {
        if let v4 = DNSRecordData.IPv4(text) { return .a(v4) }
        if let v6 = DNSRecordData.IPv6(text) { return .aaaa(v6) }
        throw DNSError(.badRecord, "'\(text)' is not an IPv4 or IPv6 address")
    }

    /// `hostmaster@example.com` or `hostmaster.example.com` as the SOA's mailbox name (RFC
    /// 1035 §8: the local part is the first label).
    static func mailbox(_ text: String) throws(DNSError) -> DNSName {
        guard let at = text.firstIndex(of: "@") else { return try DNSName(text) }
        let local = String(text[..<at])
        guard !local.contains(".") else {
            throw DNSError(.badName, "the hostmaster's local part '\(local)' has a dot, which a SOA mailbox cannot say")
        }
        return try DNSName(String(text[text.index(after: at)...])).prepending(local)
    }

    /// The zone that holds `name`: the longest apex it is at or below.
    package func zone(of name: DNSName) -> DNSName? {
        zones.first { name.isAtOrBelow($0) }
    }
}
