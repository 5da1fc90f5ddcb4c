import DNSWire
import DomainRouter

/// Which names of a zone carry the gateway's addresses, so that a server holding the zone as
/// RFC 1034 says answers exactly as routerd does. The table's `*.foo` routes every name below
/// foo that nothing more specific routes, at any depth; an RFC 4592 wildcard stops at a name
/// that exists (`*.foo` does not cover `x.y.foo` once `y.foo` has records or names below it).
/// So beside the routes themselves the zone carries, for every existing name E below a
/// wildcard's parent, E's own records (the table routes E) and a wildcard `*.E` (it routes
/// E's children). Everything here is read from the table as it is now.
struct DNSZoneContent {
    let table: RouteTable
    /// The zone's apex, as the table writes names.
    let apex: String

    /// Whether `name` exists in the zone's tree: routed itself, an ancestor of routes, or the apex.
    func exists(_ name: String) -> Bool {
        name == apex || table.contains(.host(name)) || table.hasRoutes(below: name)
    }

    /// The longest name at or above `name` (within the zone) with a wildcard route: whose
    /// `*.W` routes `name`'s children when nothing more specific does.
    func coveringWildcard(of name: String) -> String? {
        var current = Substring(name)
        while true {
            if table.contains(.wildcard(String(current))) { return String(current) }
            guard current.count > apex.count, let dot = current.firstIndex(of: ".") else { return nil }
            current = current[current.index(after: dot)...]
        }
    }

    /// The owner names at `name` that carry addresses: `name` itself (when it exists and the
    /// table routes it) and `*.name` (when it exists and a wildcard at or above covers it).
    func owners(at name: String) -> [String] {
        guard exists(name) else { return [] }
        var owners: [String] = []
        if table.lookup(host: name, source: .name) != nil { owners.append(name) }
        if coveringWildcard(of: name) != nil { owners.append("*." + name) }
        return owners
    }

    /// `name` and its ancestors down to the apex: the names a change to `name` can bring into
    /// being or end.
    func lineage(of name: String) -> [String] {
        var names: [String] = []
        var current = Substring(name)
        while true {
            names.append(String(current))
            guard current.count > apex.count, let dot = current.firstIndex(of: ".") else { break }
            current = current[current.index(after: dot)...]
        }
        return names
    }

    /// Every owner with addresses in the zone, from a scan of the table (names in the
    /// `deeper` zones left out).
    func allOwners(excluding deeper: [String]) -> Set<String> {
        var owners: Set<String> = []
        for name in existingNames(below: apex, excluding: deeper).union([apex]) { owners.formUnion(self.owners(at: name)) }
        return owners
    }

    /// The existing names at or below `top` (routes' names and their ancestors down to `top`),
    /// those in `deeper` zones left out: a scan of the table. What a wildcard's change at `top`
    /// reaches, and the whole zone's names from its apex.
    func existingNames(below top: String, excluding deeper: [String] = []) -> Set<String> {
        var names: Set<String> = []
        for key in table.allHostKeys() {
            let name = key.hasPrefix("*.") ? String(key.dropFirst(2)) : key
            guard DNSZoneContent.isAtOrBelow(name, top), !deeper.contains(where: { DNSZoneContent.isAtOrBelow(name, $0) }) else { continue }
            // Up from the name towards `top`, stopping at one already seen: its ancestors are in.
            for ancestor in lineage(of: name) {
                guard DNSZoneContent.isAtOrBelow(ancestor, top), names.insert(ancestor).inserted else { break }
            }
        }
        return names
    }

    static func isAtOrBelow(_ name: String, _ domain: String) -> Bool {
        name == domain || (name.utf8.count > domain.utf8.count && name.hasSuffix("." + domain))
    }
}
