#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DomainRouter
import Synchronization

/// Turns a peer's uid into a principal: uid 0, the daemon's own uid and members of the admin
/// group are admins; everyone else is a user named by their login name.
final class Principals: Sendable {
    private let adminGroup: gid_t?
    private let cache = Mutex<[UInt32: Principal]>([:])

    init(adminGroup: String?) throws(ServerError) {
        if let adminGroup {
            guard let gid = Principals.groupID(adminGroup) else { throw .unknownGroup(adminGroup) }
            self.adminGroup = gid
        } else {
            self.adminGroup = nil
        }
    }

    static func groupID(_ name: String) -> gid_t? {
        if let number = gid_t(name) { return number }
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }

    func principal(uid: UInt32) -> Principal {
        if let known = cache.withLock({ $0[uid] }) { return known }
        let (name, primaryGroup) = Principals.account(uid)
        var admin = uid == 0 || uid == geteuid()
        if !admin, let adminGroup, let name, let primaryGroup {
            admin = Principals.groups(of: name, primary: primaryGroup).contains(adminGroup)
        }
        let label = name ?? "uid:\(uid)"
        let principal: Principal = admin ? .admin(label) : .user(label)
        cache.withLock { $0[uid] = principal }
        return principal
    }

    static func account(_ uid: UInt32) -> (String?, gid_t?) {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return (nil, nil)
        }
        return (String(cString: name), entry.pw_gid)
    }

    static func groups(of user: String, primary: gid_t) -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, primary, &groups, &count)
        }
        return Array(groups.prefix(Int(max(0, count))))
    }
}
