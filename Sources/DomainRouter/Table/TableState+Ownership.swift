#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names, zones and ownership: base domains, and who holds the names above and below a key
/// (`ownersBelow`), so that a subtree belongs to one owner.
extension TableState {
    /// The base domain `name` is at or below, if any (longest first).
    func baseDomain(of name: String) -> String? {
        config.baseDomains.first { TableState.baseStart(of: name, under: $0) != nil }
    }

    /// Whether `name` is one label directly under `base` (`foo.example.com` under `example.com`).
    static func isChild(_ name: String, of base: String) -> Bool {
        guard let start = baseStart(of: name, under: base), start > 1 else { return false }
        return HostNames.withBytes(name) { memchr($0.baseAddress!, 0x2E, start - 1) == nil }
    }

    /// Where `base` starts in `name` when `name` is `base` (0) or below it (after a dot); nil
    /// otherwise. Canonical names are ASCII: bytes are compared, not Characters (String.hasSuffix
    /// compares by Unicode rules, and slowly).
    static func baseStart(of name: String, under base: String) -> Int? {
        HostNames.withBytes(name) { n in
            HostNames.withBytes(base) { b -> Int? in
                guard n.count >= b.count, !b.isEmpty else { return nil }
                let start = n.count - b.count
                guard start == 0 || n[start - 1] == UInt8(ascii: ".") else { return nil }
                return memcmp(n.baseAddress! + start, b.baseAddress!, b.count) == 0 ? start : nil
            }
        }
    }

    static func labelCount(_ name: Substring) -> Int {
        name.utf8.reduce(1) { $1 == UInt8(ascii: ".") ? $0 + 1 : $0 }
    }

    /// Labels at the top of a name's zone that never count as ancestors: the base domain's,
    /// or the top-level domain for custom names.
    func floorLabels(of name: String) -> Int {
        baseDomain(of: name).map { TableState.labelCount(Substring($0)) } ?? 1
    }

    /// The names whose subtree a route occupies, for the "below" tallies: a host's strict
    /// ancestors, a wildcard's parent and its strict ancestors, all above the zone's floor.
    func tallyNames(for key: RouteKey) -> [Substring] {
        let name: String
        var names: [Substring] = []
        switch key {
        case .host(let n): name = n
        case .wildcard(let parent):
            name = parent
        default: return []
        }
        // A host right under a base domain (the common case) has no ancestors above the floor.
        if case .host = key, config.baseDomains.count == 1, TableState.isChild(name, of: config.baseDomains[0]) {
            return []
        }
        var labels = TableState.labelCount(Substring(name))
        let floor = floorLabels(of: name)
        if case .wildcard = key, labels > floor { names.append(Substring(name)) }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            labels -= 1
            if labels <= floor { break }
            names.append(rest)
        }
        return names
    }

    func conflictHolder(_ s: UInt32, for principal: Principal) -> (Conflict.Holder?, Bool) {
        let owner = ownerName(of: s)
        let isOwn = owner == principal.name
        guard principal.isAdmin || isOwn else { return (nil, false) }
        let slot = slots[Int(s)]
        return (Conflict.Holder(
            owner: owner, tunnel: tunnelID(ofSlot: s),
            expiresAt: slot.expiresAt == Slot.never ? nil : Timestamp(millisecondsSinceEpoch: slot.expiresAt)), isOwn)
    }

    /// Whether another owner holds a name above `key` (or its wildcard), or anything below it.
    func subtreeConflict(_ key: RouteKey, owner: UInt32?, principal: Principal) -> Conflict? {
        let name: String
        switch key {
        case .host(let n): name = n
        case .wildcard(let parent): name = parent
        default: return nil
        }
        let floor = floorLabels(of: name)
        func foreign(_ s: UInt32?) -> UInt32? {
            guard let s, owner.map({ ownerID(of: s) != $0 }) ?? true else { return nil }
            return s
        }
        func conflict(_ s: UInt32, _ relation: Conflict.Relation) -> Conflict {
            let (holder, _) = conflictHolder(s, for: principal)
            return Conflict(key: key.description, relation: relation, heldKey: keyString(s),
                            holder: holder, isOwn: false)
        }
        if case .wildcard = key, let s = foreign(findSlot(.host(name))) {
            return conflict(s, .above)
        }
        var labels = TableState.labelCount(Substring(name))
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            labels -= 1
            if labels <= floor { break }
            let ancestor = String(rest)
            if let s = foreign(findSlot(.host(ancestor))) { return conflict(s, .above) }
            if let s = foreign(findSlot(.wildcard(ancestor))) { return conflict(s, .above) }
        }
        if let tally = ownersBelow[name], let other = tally.other(than: owner ?? .max) {
            let otherName = owners[Int(other)]
            let visible = principal.isAdmin
            return Conflict(key: key.description, relation: .below, heldKey: name,
                            holder: visible ? Conflict.Holder(owner: otherName, tunnel: nil, expiresAt: nil) : nil,
                            isOwn: false)
        }
        return nil
    }

    mutating func addTally(_ key: RouteKey, owner: UInt32) {
        if namespaces != nil { countInNamespace(key, owner: owner, by: 1) }
        if let base = baseIndex(below: key) { routesBelowBase[base] += 1 }
        for name in tallyNames(for: key) {
            let k = String(name)
            if ownersBelow[k] == nil { ownersBelow[k] = OwnerTally(owner: owner) } else { ownersBelow[k]!.add(owner) }
        }
    }

    mutating func removeTally(_ key: RouteKey, owner: UInt32) {
        if namespaces != nil { countInNamespace(key, owner: owner, by: -1) }
        if let base = baseIndex(below: key) { routesBelowBase[base] -= 1 }
        for name in tallyNames(for: key) {
            let k = String(name)
            if ownersBelow[k]?.remove(owner) == false { ownersBelow[k] = nil }
        }
    }

    /// The base domain `key` lies strictly below (a wildcard `*.B` lies below `B`), by index.
    func baseIndex(below key: RouteKey) -> Int? {
        switch key {
        case .host(let name):
            return config.baseDomains.firstIndex { (TableState.baseStart(of: name, under: $0) ?? 0) > 0 }
        case .wildcard(let parent):
            return config.baseDomains.firstIndex { TableState.baseStart(of: parent, under: $0) != nil }
        default:
            return nil
        }
    }

    /// Whether any route lies strictly below `name` (a wildcard `*.N` lies below `N`): whether
    /// `name` exists in DNS as an empty non-terminal when it is not routed itself (RFC 8020).
    func hasRoutes(below name: String) -> Bool {
        if ownersBelow[name] != nil { return true }
        // Tallies stop above each base domain's floor: a base domain at or below `name` says
        // for itself.
        for (i, base) in config.baseDomains.enumerated() {
            guard let start = TableState.baseStart(of: base, under: name) else { continue }
            if routesBelowBase[i] > 0 { return true }
            if start > 0, findCommitted(.host(base)) != nil { return true }
        }
        return false
    }
}
