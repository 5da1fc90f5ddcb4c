#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Checks made before routerd starts anything, so that a listener or file it cannot use is
/// refused in one line naming the flag, the address or path, and the cause — rather than as a
/// SwiftNIO error from deep in start-up.
enum StartChecks {
    /// Why `flag`'s TCP address `host:port` cannot be listened on, or nil when it can (it is
    /// bound for a moment and let go; the listener binds it again right after).
    static func listenProblem(flag: String, host: String, port: Int) -> String? {
        let place = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            return "cannot listen on \(flag) \(place): the host does not resolve to an address of this machine"
        }
        let fd = socket(Int32(address.protocol.rawValue), Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "cannot listen on \(flag) \(place): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound != 0 else { return nil }
        let cause = errno
        let hint: String
        switch cause {
        case EADDRINUSE: hint = ": another process listens there; stop it or choose another port"
        case EADDRNOTAVAIL: hint = ": no network interface of this machine has that address"
        case EACCES: hint = ": ports below 1024 need root or CAP_NET_BIND_SERVICE"
        default: hint = ""
        }
        return "cannot listen on \(flag) \(place): \(String(cString: strerror(cause)))\(hint)"
    }

    /// Why `flag`'s file `path` cannot be read, or nil when it can.
    static func unreadable(flag: String, path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd < 0 else {
            close(fd)
            return nil
        }
        return "cannot read \(flag) \(path): \(String(cString: strerror(errno)))"
    }

    /// Why `flag`'s file of secrets `path` may not be used (unreadable, or readable by group or
    /// others), or nil when it may.
    static func secretProblem(flag: String, path: String) -> String? {
        if let problem = unreadable(flag: flag, path: path) { return problem }
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot read \(flag) \(path): \(String(cString: strerror(errno)))" }
        guard info.st_mode & 0o077 == 0 else {
            return "\(flag) \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it"
        }
        return nil
    }
}
