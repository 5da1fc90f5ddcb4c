/// `struct ucred` as `SO_PEERCRED` fills it (Swift's Glibc module lacks the type: it needs
/// `_GNU_SOURCE`). Same layout: pid, uid, gid.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
