/// A part of the key space: subtrees of names and ranges of TCP ports. What one namespace owns,
/// or what a principal may see in full beyond their own routes (the team namespaces they belong
/// to and the namespaces they administer). Filters carry it as a value, so a watch or a history
/// query is narrowed without asking the table for each event or row.
public struct NamespaceArea: Hashable, Sendable {
    /// Canonical names: each is in the area with every name below it (`*.d` and `x.d` for `d`).
    public var domains: [String]
    /// `tcp:N` keys whose port lies in one of these.
    public var ports: [ClosedRange<UInt16>]

    public init(domains: [String] = [], ports: [ClosedRange<UInt16>] = []) {
        self.domains = domains
        self.ports = ports
    }

    /// Whether the area holds nothing.
    public var isEmpty: Bool { domains.isEmpty && ports.isEmpty }

    /// Whether `key` (as the wire writes it: `a.b`, `*.b`, `tcp:N`; a `uuid:` key never) lies in
    /// the area.
    public func contains(key: String) -> Bool {
        if key.hasPrefix("tcp:") {
            guard !ports.isEmpty, let port = UInt16(key.dropFirst(4)) else { return false }
            return ports.contains { $0.contains(port) }
        }
        let name = key.hasPrefix("*.") ? Substring(key.dropFirst(2)) : Substring(key)
        return domains.contains { domain in
            name == domain || (name.utf8.count > domain.utf8.count + 1 && name.hasSuffix("." + domain))
        }
    }

    /// Both areas together.
    public func union(_ other: NamespaceArea) -> NamespaceArea {
        NamespaceArea(domains: domains + other.domains, ports: ports + other.ports)
    }
}

extension Namespace {
    /// What the namespace owns: its domains (a user namespace: the parent, under which every
    /// member's subtree lies) and its ports.
    public var area: NamespaceArea {
        NamespaceArea(domains: domains, ports: tcpPorts.map { [$0] } ?? [])
    }
}
