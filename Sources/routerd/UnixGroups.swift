#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// The Unix groups of a user by name, as the system's group database says (`getgrouplist`:
/// the primary group and every group listing the user), for namespace membership. Answers are
/// kept for a few seconds: an add by a non-admin asks on each call, and the group database is
/// read from files or NSS.
final class UnixGroups: Sendable {
    private let cache = Mutex<[String: (groups: Set<String>, until: ContinuousClock.Instant)]>([:])
    static let keep: Duration = .seconds(5)

    func of(_ user: String) -> Set<String> {
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[user] }), hit.until > now { return hit.groups }
        let groups = Self.lookUp(user)
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[user] = (groups, now + Self.keep)
        }
        return groups
    }

    /// The groups of `user` (none when the system does not know the user: a token principal).
    static func lookUp(_ user: String) -> Set<String> {
        // The reentrant calls: answers may be looked up on several threads at once.
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return [] }
        let primary = entry.pw_gid
        var count: Int32 = 64
        var gids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, primary, &gids, &count) < 0 {
            gids = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, primary, &gids, &count) >= 0 else { return [] }
        }
        var names: Set<String> = []
        for gid in gids.prefix(Int(count)) {
            var record = group()
            var result: UnsafeMutablePointer<group>?
            if getgrgid_r(gid, &record, &buffer, buffer.count, &result) == 0, result != nil {
                names.insert(String(cString: record.gr_name))
            }
        }
        return names
    }
}
