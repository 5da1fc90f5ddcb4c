/// Reading: the gateway's lookup, and a tunnel with its routes.
extension TableState {
    /// Exact match first, then the most specific wildcard (the longest suffix). `name` is
    /// the canonical name as a String when the caller already has one.
    func lookupHost(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, name: String?,
                    now: () -> Int64) -> LookupResult? {
        if let s = findHost(bytes, hash: hash), !isProvisional(s), !isExpired(s, now: now) {
            let route = route(s, key: name)
            return LookupResult(route: route, match: .exact, via: route.key)
        }
        guard wildcardCount > 0 else { return nil }
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: ".") {
            let suffix = UnsafeBufferPointer(rebasing: bytes[(i + 1)...])
            if let s = findWildcard(parent: suffix, hash: hasher(suffix)), !isProvisional(s), !isExpired(s, now: now) {
                let route = route(s)
                return LookupResult(route: route, match: .wildcard, via: route.key)
            }
        }
        return nil
    }

    /// The live, unexpired slots of a tunnel, in key order.
    func members(of t: UInt32, now: Int64) -> [UInt32] {
        var found: [UInt32] = []
        var s = tunnels[Int(t)].head
        while s != Slot.none {
            if !isExpired(s, now: now) { found.append(s) }
            s = slots[Int(s)].next
        }
        return found.sorted { SortedKeyList.compareBytes(keyBytes($0), keyBytes($1)) < 0 }
    }

    func tunnelInfo(_ id: TunnelID, now: Int64) -> TunnelInfo? {
        guard let t = findTunnel(id) else { return nil }
        let routes = members(of: t, now: now).filter { !isProvisional($0) }.map { route($0) }
        guard !routes.isEmpty else { return nil }
        let expiries = routes.map { $0.expiresAt }
        return TunnelInfo(
            id: id, owner: owners[Int(tunnels[Int(t)].owner)],
            expiresAt: expiries.contains(nil) ? nil : expiries.compactMap { $0 }.max(),
            routes: routes)
    }
}
