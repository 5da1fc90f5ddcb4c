#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DomainRouter
import Synchronization

/// `struct ucred` as `SO_PEERCRED` fills it (Swift's Glibc module lacks the type: it needs
/// `_GNU_SOURCE`). Same layout: pid, uid, gid.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

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

/// Resident memory of this process, from /proc/self/statm.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return 0 }
    let fields = String(decoding: buffer.prefix(n), as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Random hex from the system CSPRNG, for instance ids and resume tokens.
func randomHex(bytes: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    var out = ""
    for _ in 0..<bytes {
        let b = UInt8.random(in: 0...255, using: &rng)
        out += String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
    }
    return out
}
