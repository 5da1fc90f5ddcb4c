import DomainRouter
import RouterEngine
import RouterEtcd

/// The daemon's lease and the store's health: every `renewal`, the lease is renewed and the
/// store's id, head and members are read in one transaction.
extension EtcdStore {
    func keepLease() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.renewal)
            if Task.isCancelled { return }
            do {
                try await renew()
            } catch {
                markUnavailable(error)
            }
        }
    }

    /// Renews the lease (a lease etcd dropped — this daemon was away longer than its TTL — is
    /// granted again with the member key), reads the members and their digests, and checks the
    /// head: a replica behind it on two checks in a row catches up and restarts its watch.
    func renew() async throws {
        let lease = state.withLock { $0.lease }
        if try await client.keepAlive(lease) == 0 {
            let fresh = try await client.grantLease(ttl: Self.leaseSeconds)
            state.withLock { $0.lease = fresh }
            logger.warning("this daemon's etcd lease had run out; took a new one", metadata: ["store": "\(location)"])
            try await putMember()
        }
        // Taken before the read: a key written after it may be missing from it.
        let readAt = table.clock.now().millisecondsSinceEpoch
        let read = try await client.txn(EtcdJSON.txn(compare: [], success: [
            .range(EtcdJSON.range(keys.id)), .range(EtcdJSON.range(keys.head)),
            .range(EtcdJSON.range(keys.members, end: keys.end(keys.members))),
        ]), failover: true)
        guard read.ranges.count == 3 else { throw EtcdError(.malformed, "a read of the head and members gave \(read.ranges.count) answers") }
        var members: [UInt64: String] = [:]
        for kv in read.ranges[2].kvs {
            if let n = UInt64(kv.key.dropFirst(keys.members.count)) { members[n] = kv.value }
        }
        let node = state.withLock { $0.shared.node }
        let digest = state.withLock { $0.shared.configDigest ?? "" }
        if members[node] != digest, !state.withLock({ $0.shared.stopping }) {
            // The key went with a lease etcd let lapse while this daemon still held it, or
            // the daemon's namespaces changed.
            try await putMember()
            members[node] = state.withLock { $0.shared.configDigest ?? "" }
        }
        state.withLock { s in
            s.members = members
            s.membersReadAt = readAt
        }
        compareDigests(live: members)
        let id = read.ranges[0].kvs.first?.value
        let (head, _) = try Self.head(read.ranges[1].kvs.first?.value)
        markContact(revision: head)
        if id != state.withLock({ $0.shared.storeID }) || head < table.revision {
            try await checkHead()
            return
        }
        let stuck = state.withLock { s -> Bool in
            s.lagging = head > table.revision ? s.lagging + 1 : 0
            return s.lagging >= 2
        }
        if stuck {
            logger.warning("the store's log watch fell behind; catching up and watching again", metadata: [
                "store": "\(location)", "revision": "\(table.revision)", "store_revision": "\(head)",
            ])
            let at = try await catchUp()
            state.withLock { s in
                s.watchFrom = max(s.watchFrom, at + 1)
                s.lagging = 0
                s.restartWatch = true
            }
        }
    }
}
