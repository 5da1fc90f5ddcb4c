#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The table's operations, each run under the write lock (or the read lock for queries).
extension TableState {
    // MARK: Add

    /// Adds each request in order, each succeeding or failing on its own (`RouteTable.add(each:as:)`,
    /// and a draft's run of adds). Each is checked here rather than in a first pass (no second
    /// array of requests), read where it is — through a buffer, as the compiler copies an array's
    /// element passed to a call — and copied only to change it (`RouteTable.prepared`).
    mutating func add(each requests: [AddRequest], principal: Principal, now: Int64,
                      table: RouteTable) -> [Result<AddResult, RouteError>] {
        var results: [Result<AddResult, RouteError>] = []
        results.reserveCapacity(requests.count)
        requests.withUnsafeBufferPointer { requests in
            for i in requests.indices {
                do throws(RouteError) {
                    if case .random(_?) = requests[i].name {
                        results.append(.success(try add(try table.prepared(requests[i]), principal: principal, now: now)))
                    } else {
                        try requests[i].validate()
                        results.append(.success(try add(requests[i], principal: principal, now: now)))
                    }
                } catch {
                    results.append(.failure(error))
                }
            }
        }
        return results
    }

    mutating func add(_ request: AddRequest, principal: Principal, now: Int64) throws(RouteError) -> AddResult {
        expireDue(now: now)
        if let asked = request.owner, !principal.isAdmin, asked != principal.name {
            throw .forbidden("only an admin may add routes for another owner ('\(asked)')")
        }
        var ownerName = principal.isAdmin ? (request.owner ?? principal.name) : principal.name
        // A tunnel id drawn here (74 random bits within its millisecond) is new: no need to
        // look it up.
        let drawn = request.tunnel == nil
        let tunnelID = request.tunnel ?? TunnelID.uuid(at: now, random.next(), random.next())
        if !drawn, let t = findTunnel(tunnelID) {
            let holder = owners[Int(tunnels[Int(t)].owner)]
            if holder != ownerName {
                if principal.isAdmin && request.owner == nil {
                    ownerName = holder
                } else if principal.isAdmin {
                    throw .forbidden("tunnel \(tunnelID) belongs to \(holder); pass owner \(holder) or another tunnel")
                } else {
                    throw .forbidden("tunnel \(tunnelID) belongs to another owner; choose another tunnel id")
                }
            }
        }
        if let target = request.target, !principal.isAdmin { try checkTarget(target) }
        let ownerID = knownOwner(ownerName)
        let key: RouteKey
        // In a team namespace, names above and below each other are the team's to share.
        var sharedWithTeam = false
        switch request.name {
        case .key(let k):
            // A key in a namespace follows the namespace's rules instead of the base domains'.
            if try checkNamespace(k, principal: principal, owner: ownerName, ttl: request.ttl, session: request.session != nil, existing: findSlot(k)) == nil {
                try checkKey(k, principal: principal)
            }
            key = k
            if teamShared(k, principal: principal) { sharedWithTeam = true }
        case .random(let domain):
            // Under the caller's namespace when it has one (and no domain is asked for).
            key = try drawRandomName(under: domain, home: domain == nil ? homeDomain(of: principal) : nil,
                                     owner: ownerID, principal: principal)
            _ = try checkNamespace(key, principal: principal, owner: ownerName, ttl: request.ttl, session: request.session != nil, existing: nil)
        case .tcpAuto:
            key = try drawPort(in: homePorts(of: principal) ?? config.tcpPorts)
            _ = try checkNamespace(key, principal: principal, owner: ownerName, ttl: request.ttl, session: request.session != nil, existing: nil)
        }
        if let s = findSlot(key) {
            let holder = tunnels[Int(slots[Int(s)].tunnel)]
            if !drawn && findTunnel(tunnelID) == slots[Int(s)].tunnel {
                return refresh(s, with: request, now: now)
            }
            guard request.replace else {
                let (visible, isOwn) = conflictHolder(s, for: principal)
                throw .conflict(Conflict(key: key.description, relation: .same, heldKey: key.description,
                                         holder: visible, isOwn: isOwn))
            }
            guard principal.isAdmin || owners[Int(holder.owner)] == principal.name
                    || mayActInNamespace(on: s, principal: principal, manage: true) else {
                throw .forbidden("\(key) belongs to another owner; only that owner or an admin may replace it")
            }
            return replace(s, tunnel: tunnelID, owner: ownerName, with: request, now: now)
        }
        if !principal.isAdmin, !sharedWithTeam, let conflict = subtreeConflict(key, owner: ownerID, principal: principal) {
            throw .conflict(conflict)
        }
        return create(key, tunnel: tunnelID, owner: ownerName, with: request, now: now, newTunnel: drawn)
    }

    /// Refuses keys the principal may not claim: outside the base domains, a base domain
    /// itself, its wildcard, a reserved label, a port outside the range, wildcards too high.
    func checkKey(_ key: RouteKey, principal: Principal) throws(RouteError) {
        var bases: String { config.baseDomains.joined(separator: ", ") }
        switch key {
        case .tunnel:
            throw .invalidArgument("add takes a host, wildcard or tcp: key; name the tunnel with the tunnel argument")
        case .tcp(let port):
            if !principal.isAdmin && !config.tcpPorts.contains(port) {
                throw .outOfRange("tcp:\(port) is outside the TCP port range \(config.tcpPorts.lowerBound)-\(config.tcpPorts.upperBound)")
            }
        case .host(let name):
            guard !principal.isAdmin else { return }
            guard let base = baseDomain(of: name) else {
                throw .forbidden("\(name) is outside the base domains (\(bases)); only an admin may add a custom domain")
            }
            if name == base { throw .forbidden("\(name) is a base domain; only an admin may route it") }
            try checkReserved(name, key: key, base: base)
        case .wildcard(let parent):
            if TableState.labelCount(Substring(parent)) < 2
                || config.baseDomains.contains(where: { $0.hasSuffix("." + parent) }) {
                throw .forbidden("*.\(parent) would reach above a base domain; a wildcard sits at or below one")
            }
            guard !principal.isAdmin else { return }
            guard let base = baseDomain(of: parent) else {
                throw .forbidden("*.\(parent) is outside the base domains (\(bases)); only an admin may add a custom domain")
            }
            if parent == base {
                throw .forbidden("*.\(base) would catch every name under the base domain; only an admin may add it")
            }
            try checkReserved(parent, key: key, base: base)
        }
    }

    func checkReserved(_ name: String, key: RouteKey, base: String) throws(RouteError) {
        let inside = name.utf8.dropLast(base.utf8.count + 1)
        let label: Substring
        if let dot = inside.lastIndex(of: UInt8(ascii: ".")) {
            label = Substring(name.utf8[name.utf8.index(after: dot)..<inside.endIndex])
        } else {
            label = Substring(inside)
        }
        if config.reservedLabels.contains(String(label)) {
            throw .reserved(name: key.description, label: String(label))
        }
    }

    mutating func drawRandomName(under domain: String?, home: String? = nil, owner: UInt32?,
                                 principal: Principal) throws(RouteError) -> RouteKey {
        let base: String
        if let home {
            base = home
        } else if let domain {
            guard config.baseDomains.contains(domain) else {
                throw .invalidArgument("\(domain) is not a base domain (\(config.baseDomains.joined(separator: ", ")))")
            }
            base = domain
        } else if config.baseDomains.count == 1 {
            base = config.baseDomains[0]
        } else {
            throw .invalidArgument("there are several base domains (\(config.baseDomains.joined(separator: ", "))); pass a domain for the random name")
        }
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        for _ in 0..<config.randomAttempts {
            var label = [UInt8]()
            label.reserveCapacity(config.randomLength)
            for _ in 0..<config.randomLength {
                label.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)])
            }
            let text = String(decoding: label, as: UTF8.self)
            if config.reservedLabels.contains(text) { continue }
            let name = text + "." + base
            guard name.utf8.count <= HostNames.maximumLength else {
                throw .invalidArgument("a random label of \(config.randomLength) characters under \(base) is longer than a host name may be")
            }
            let key = RouteKey.host(name)
            if findSlot(key) != nil { continue }
            if !principal.isAdmin, subtreeConflict(key, owner: owner, principal: principal) != nil { continue }
            return key
        }
        throw .outOfRange("no free name after \(config.randomAttempts) random draws of \(config.randomLength) characters under \(base); raise the random length")
    }

    func drawPort(in range: ClosedRange<UInt16>) throws(RouteError) -> RouteKey {
        let low = Int(range.lowerBound)
        let size = Int(range.upperBound) - low + 1
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let port = UInt16(low + Int.random(in: 0..<size, using: &rng))
            if findSlot(.tcp(port)) == nil { return .tcp(port) }
        }
        let start = Int.random(in: 0..<size, using: &rng)
        for i in 0..<size {
            let port = UInt16(low + (start + i) % size)
            if findSlot(.tcp(port)) == nil { return .tcp(port) }
        }
        throw .outOfRange("every TCP port in \(range.lowerBound)-\(range.upperBound) is taken")
    }

    mutating func create(_ key: RouteKey, tunnel id: TunnelID, owner ownerName: String,
                         with request: AddRequest, now: Int64, newTunnel: Bool = false) -> AddResult {
        noteUndo(key, before: nil)
        let owner = internOwner(ownerName)
        let (t, uuid) = tunnelSlot(for: id, owner: owner, new: newTunnel)
        let revision = nextRevision()
        let ttl = request.ttl?.milliseconds ?? 0
        let expires = ttl > 0 ? now &+ ttl : Slot.never
        let s = newSlot(key)
        slots[Int(s)].createdAt = now
        slots[Int(s)].updatedAt = now
        slots[Int(s)].expiresAt = expires
        slots[Int(s)].ttl = ttl
        slots[Int(s)].createRevision = revision
        slots[Int(s)].modRevision = revision
        setTargetAndLabels(s, target: request.target, labels: request.labels, access: request.access)
        linkToTunnel(s, t, uuid: uuid)
        insertIndexes(s)
        addTally(key, owner: owner)
        if let session = request.session { bindSession(s, to: session) }
        scheduleExpiry(s, at: expires, previous: Slot.never)
        let route = route(s, key: key.description, tunnel: id)
        publish(RouteEvent(kind: .add, revision: revision, key: route.key, route: route))
        return AddResult(route: route, created: true, revision: revision)
    }

    /// A user's target must lie in the configured ranges (`--allow-target`).
    func checkTarget(_ target: RouteTarget) throws(RouteError) {
        guard let ip = target.ipAddress, config.allowedTargets.contains(where: { $0.contains(ip) }) else {
            if config.allowedTargets.isEmpty {
                throw .forbidden("only an admin may set a target (no --allow-target ranges are configured)")
            }
            let ranges = config.allowedTargets.map(\.description).joined(separator: ", ")
            throw .forbidden("target \(target) is outside the ranges users may point to (\(ranges))")
        }
    }

    /// Same owner, same tunnel: the request's values replace the route's (an `update`).
    mutating func refresh(_ s: UInt32, with request: AddRequest, now: Int64) -> AddResult {
        if undo != nil { noteUndo(routeKey(s), before: route(s)) }
        let revision = nextRevision()
        let previous = slots[Int(s)].expiresAt
        let ttl = request.ttl?.milliseconds ?? 0
        let expires = ttl > 0 ? now &+ ttl : Slot.never
        slots[Int(s)].ttl = ttl
        slots[Int(s)].expiresAt = expires
        slots[Int(s)].updatedAt = now
        slots[Int(s)].modRevision = revision
        setTargetAndLabels(s, target: request.target, labels: request.labels, access: request.access)
        bindSession(s, to: request.session ?? 0)
        scheduleExpiry(s, at: expires, previous: previous)
        let route = route(s)
        publish(RouteEvent(kind: .update, revision: revision, key: route.key, route: route))
        return AddResult(route: route, created: false, revision: revision)
    }

    /// Moves a key to another tunnel (`replace`), then refreshes it with the request's values.
    mutating func replace(_ s: UInt32, tunnel id: TunnelID, owner ownerName: String,
                          with request: AddRequest, now: Int64) -> AddResult {
        if undo != nil { noteUndo(routeKey(s), before: route(s)) }
        let key = routeKey(s)
        removeTally(key, owner: ownerID(of: s))
        unlinkFromTunnel(s)
        let owner = internOwner(ownerName)
        let (t, uuid) = tunnelSlot(for: id, owner: owner)
        linkToTunnel(s, t, uuid: uuid)
        addTally(key, owner: owner)
        return refresh(s, with: request, now: now)
    }

    // MARK: Delete and touch

    /// The live slots a key names: one route, or all routes of a tunnel (in key order).
    func matchingSlots(for key: RouteKey, principal: Principal, verb: String) throws(RouteError) -> [UInt32] {
        if case .tunnel(let id) = key {
            guard let t = findTunnel(id) else { throw .notFound("no tunnel \(id)") }
            guard principal.isAdmin || owners[Int(tunnels[Int(t)].owner)] == principal.name else {
                throw .forbidden("tunnel \(id) belongs to another owner; only that owner or an admin may \(verb) it")
            }
            return members(of: t, now: .min)
        }
        guard let s = findSlot(key) else { throw .notFound("no route for \(key)") }
        // In a team namespace, any member renews a route; its admins delete and change them.
        guard principal.isAdmin || ownerName(of: s) == principal.name
                || mayActInNamespace(on: s, principal: principal, manage: verb != "touch") else {
            throw .forbidden("\(key) belongs to another owner; only that owner or an admin may \(verb) it")
        }
        return [s]
    }

    mutating func delete(_ key: RouteKey, principal: Principal, now: Int64) throws(RouteError) -> [Route] {
        expireDue(now: now)
        return try matchingSlots(for: key, principal: principal, verb: "delete").map { remove($0, as: .delete) }
    }

    mutating func touch(_ key: RouteKey, ttl: Duration?, principal: Principal, now: Int64) throws(RouteError) -> [Route] {
        expireDue(now: now)
        return try matchingSlots(for: key, principal: principal, verb: "touch").map { s in
            if undo != nil { noteUndo(routeKey(s), before: route(s)) }
            let revision = nextRevision()
            let previous = slots[Int(s)].expiresAt
            if let ttl { slots[Int(s)].ttl = ttl.milliseconds }
            let keep = slots[Int(s)].ttl
            let expires = keep > 0 ? now &+ keep : Slot.never
            slots[Int(s)].expiresAt = expires
            slots[Int(s)].updatedAt = now
            slots[Int(s)].modRevision = revision
            scheduleExpiry(s, at: expires, previous: previous)
            let route = route(s)
            publish(RouteEvent(kind: .update, revision: revision, key: route.key, route: route))
            return route
        }
    }

    /// Changes a route's target, labels or access rules in place: one `update` event, the same
    /// key, tunnel, owner, session and expiry. Its owner (or an admin) only; a user's new target
    /// must lie in the ranges users may point to, as for an add.
    mutating func update(_ key: RouteKey, _ change: RouteChange, principal: Principal, now: Int64) throws(RouteError) -> Route {
        expireDue(now: now)
        if case .tunnel = key { throw .invalidArgument("update changes one route: give its key, not a tunnel") }
        let s = try matchingSlots(for: key, principal: principal, verb: "update")[0]
        if case .some(.some(let target)) = change.target, !principal.isAdmin {
            try checkTarget(target)
        }
        if undo != nil { noteUndo(routeKey(s), before: route(s)) }
        let current = route(s)
        let revision = nextRevision()
        var access = current.access
        if let allow = change.allow { access.allow = allow }
        if let deny = change.deny { access.deny = deny }
        setTargetAndLabels(s, target: change.target ?? current.target, labels: change.labels ?? current.labels, access: access)
        slots[Int(s)].updatedAt = now
        slots[Int(s)].modRevision = revision
        let route = route(s)
        publish(RouteEvent(kind: .update, revision: revision, key: route.key, route: route))
        return route
    }

    // MARK: Sessions

    mutating func endSession(_ id: UInt64, grace: Int64, now: Int64) {
        expireDue(now: now)
        guard let record = sessions[id] else { return }
        if record.slots.isEmpty {
            sessions[id] = nil
        } else if grace <= 0 {
            for s in record.slots.sorted() where slots[Int(s)].live { remove(s, as: .expire) }
            sessions[id] = nil
        } else {
            sessions[id]!.endsAt = now &+ grace
            endingSessions.insert(id)
        }
    }

    mutating func resumeSession(_ old: UInt64, as new: UInt64, now: Int64) -> Int {
        expireDue(now: now)
        guard old != new, let record = sessions.removeValue(forKey: old) else { return 0 }
        endingSessions.remove(old)
        for s in record.slots { slots[Int(s)].session = new }
        sessions[new, default: SessionRecord()].slots.formUnion(record.slots)
        return record.slots.count
    }

    // MARK: Queries

    func list(_ query: RouteQuery, principal: Principal, now: Int64) -> RoutePage {
        let limit = max(1, query.limit ?? Int.max)
        let ownerName = principal.isAdmin ? query.owner : principal.name
        // A team namespace's members (and a namespace's admins) see each other's routes in it
        // (an owner asked for narrows to that owner's, as for an admin).
        let teams = sharedNamespaces(of: principal)
        var ownerID: UInt32?
        if let ownerName {
            let id = ownerIDs[ownerName]
            guard id != nil || !teams.isEmpty else { return RoutePage(routes: [], next: nil, revision: revision) }
            ownerID = id ?? UInt32.max
        }
        // (Without a team, a user's owner filter is theirs whatever they ask, as before.)
        let asked = principal.isAdmin || query.owner == nil || teams.isEmpty ? nil : ownerIDs[query.owner!] ?? UInt32.max
        var inNamespace: Int?
        if let name = query.namespace {
            guard let index = namespaces?.namespaces.firstIndex(where: { $0.name == name }) else {
                return RoutePage(routes: [], next: nil, revision: revision)
            }
            inNamespace = index
        }
        var routes: [Route] = []
        var shared: Set<String> = []
        var more = false
        func consider(_ s: UInt32) -> Bool {
            let slot = slots[Int(s)]
            guard slot.live, slot.flags & Slot.provisional == 0, slot.expiresAt > now else { return true }
            if let kind = query.kind, slot.kind != kind { return true }
            if let inNamespace, namespacePlace(routeKey(s))?.index != inNamespace { return true }
            var teammates = false
            if let ownerID, slot.owner != ownerID {
                guard !teams.isEmpty, let place = namespacePlace(routeKey(s)), teams.contains(place.index) else { return true }
                teammates = true
            }
            if let asked, slot.owner != asked { return true }
            if !query.labels.isEmpty {
                let routeLabels = slot.flags & Slot.hasLabels == 0 ? [:] : labels[s] ?? [:]
                for (k, v) in query.labels where routeLabels[k] != v { return true }
            }
            if routes.count == limit {
                more = true
                return false
            }
            let found = route(s)
            if teammates { shared.insert(found.key) }
            routes.append(found)
            return true
        }
        func hasPrefix(_ s: UInt32, _ prefix: UnsafeBufferPointer<UInt8>) -> Bool {
            let key = keyBytes(s)
            return key.count >= prefix.count && (prefix.isEmpty || memcmp(key.baseAddress!, prefix.baseAddress!, prefix.count) == 0)
        }
        HostNames.withBytes(query.prefix ?? "") { prefix in
            HostNames.withBytes(query.after ?? "") { after in
                if let tunnel = query.tunnel {
                    guard let t = findTunnel(tunnel) else { return }
                    var members: [UInt32] = []
                    var s = tunnels[Int(t)].head
                    while s != Slot.none {
                        if (query.after == nil || SortedKeyList.compareBytes(keyBytes(s), after) > 0) && hasPrefix(s, prefix) {
                            members.append(s)
                        }
                        s = slots[Int(s)].next
                    }
                    members.sort { SortedKeyList.compareBytes(keyBytes($0), keyBytes($1)) < 0 }
                    for s in members where !consider(s) { break }
                } else {
                    // Start at the later of `after` (exclusive) and `prefix` (inclusive).
                    var start: UnsafeBufferPointer<UInt8>? = query.after == nil ? nil : after
                    var strictly = true
                    if query.prefix != nil, query.after == nil || SortedKeyList.compareBytes(after, prefix) < 0 {
                        start = prefix
                        strictly = false
                    }
                    sorted.forEach(from: start, strictlyAfter: strictly, keyOf) { s in
                        if query.prefix != nil && !hasPrefix(s, prefix) { return false }
                        return consider(s)
                    }
                }
            }
        }
        return RoutePage(routes: routes, next: more ? routes.last?.key : nil, revision: revision, shared: shared)
    }

    func events(from requested: UInt64) throws(RouteError) -> [RouteEvent] {
        let from = max(requested, 1)
        if from > revision &+ 1 {
            throw .outOfRange("revision \(requested) is in the future; the current revision is \(revision)")
        }
        if from == revision &+ 1 { return [] }
        guard let first = history.first, first.revision <= from else {
            throw .compacted(oldest: history.first?.revision ?? revision &+ 1)
        }
        return Array(history[Int(from - first.revision)...])
    }

    var oldestRevision: UInt64 { history.first?.revision ?? revision &+ 1 }

    func stats() -> TableStats {
        // Drafted adds still being committed are not routes yet.
        var (hosts, wildcards, tcp) = (hostCount, wildcardCount, tcpCount)
        // Of each tunnel, how many of its routes are drafted adds: one that has no other is
        // not a tunnel yet either.
        var drafted: [UInt32: Int] = [:]
        for (event, s) in provisional.all {
            switch event.route?.kind {
            case .host: hosts -= 1
            case .wildcard: wildcards -= 1
            case .tcp: tcp -= 1
            case nil: continue
            }
            if s != Slot.none { drafted[slots[Int(s)].tunnel, default: 0] += 1 }
        }
        let draftedTunnels = drafted.count { tunnels[Int($0.key)].count == $0.value }
        return TableStats(
            hosts: hosts, wildcards: wildcards, tcp: tcp,
            tunnels: tunnelIndex.count - draftedTunnels, revision: revision, oldestRevision: oldestRevision,
            subscribers: subscribers.values.filter { !$0.ended.load(ordering: .relaxed) }.count,
            sessions: sessions.count)
    }
}

extension TableState {
    /// Whether `key` lies in a team namespace `principal` belongs to.
    func teamShared(_ key: RouteKey, principal: Principal) -> Bool {
        guard let policy = namespaces, let place = namespacePlace(key) else { return false }
        return policy.namespaces[place.index].kind == .team && policy.isMember(principal.name, of: place.index)
    }
}
